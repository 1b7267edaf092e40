import type { Readable } from 'node:stream';

/** Longest line kept; longer output is split. */
const MAX_LINE = 16 * 1024;

/** Call `onLine` for each line of a stream; resolves when the stream ends. */
export function captureLines(stream: Readable, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      rest += chunk;
      let nl = rest.indexOf('\n');
      while (nl >= 0) {
        onLine(rest.slice(0, nl).replace(/\r$/, ''));
        rest = rest.slice(nl + 1);
        nl = rest.indexOf('\n');
      }
      while (rest.length > MAX_LINE) {
        onLine(rest.slice(0, MAX_LINE));
        rest = rest.slice(MAX_LINE);
      }
    });
    stream.on('close', () => {
      if (rest) onLine(rest);
      resolve();
    });
  });
}
