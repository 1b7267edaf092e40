/**
 * Loading user TypeScript on Node 20: the file is transpiled with typescript's
 * transpileModule (types are not checked) to a temporary .mjs beside it, so its relative
 * imports and its own node_modules resolve as they would for the source, then imported.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../util/index.js';

/** The package entry that `import ... from 'sluice'` in user files is pointed at. */
export const PACKAGE_ENTRY = new URL('../index.js', import.meta.url).href;

/**
 * Import a TypeScript module; `import ... from 'sluice'` resolves to this installation.
 * @throws ConfigError when typescript is missing or the file does not compile or load.
 */
export async function importTypeScript(path: string, file = path): Promise<Record<string, unknown>> {
  let ts: typeof import('typescript');
  try {
    ts = (await import('typescript')).default;
  } catch (err) {
    throw new ConfigError(
      file,
      undefined,
      undefined,
      'cannot load TypeScript to compile this file',
      'npm install typescript',
      {
        cause: err,
      },
    );
  }
  const source = await readFile(path, 'utf8');
  const out = ts.transpileModule(source, {
    fileName: path,
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      sourceMap: false,
    },
  });
  const syntax = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (syntax) {
    const at =
      syntax.file && syntax.start !== undefined
        ? syntax.file.getLineAndCharacterOfPosition(syntax.start)
        : undefined;
    throw new ConfigError(
      file,
      at ? at.line + 1 : undefined,
      at ? at.character + 1 : undefined,
      ts.flattenDiagnosticMessageText(syntax.messageText, '\n'),
    );
  }
  const code = out.outputText.replace(
    /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])sluice\2/g,
    (_m, lead: string, quote: string) => `${lead}${quote}${PACKAGE_ENTRY}${quote}`,
  );
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.mjs`);
  await writeFile(temp, code);
  try {
    return (await import(pathToFileURL(temp).href)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(file, undefined, undefined, `cannot load: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  } finally {
    await rm(temp, { force: true });
  }
}
