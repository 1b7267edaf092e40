/**
 * The SQL editor: CodeMirror with completion of namespaces and tables (from the catalog) and
 * of the columns of tables the query names (their metadata is fetched when first named).
 * Loaded on demand, so pages other than SQL do not download CodeMirror.
 */
import { autocompletion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { PostgreSQL, type SQLNamespace, sql } from '@codemirror/lang-sql';
import { Compartment, EditorState, Prec } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { useEffect, useRef } from 'react';
import { fetchAllTables, fetchTable, qualifiedName, type TableRef } from '../api-tables';

export interface SqlEditorProps {
  value: string;
  onChange: (text: string) => void;
  /** Ctrl/Cmd-Enter. */
  onRun: () => void;
  label: string;
}

/** Columns per qualified table name, fetched once each. */
const columnCache = new Map<string, Promise<string[]>>();

function columnsOf(ref: TableRef): Promise<string[]> {
  const name = qualifiedName(ref);
  let cols = columnCache.get(name);
  if (!cols) {
    cols = fetchTable(ref, new AbortController().signal).then(
      (md) =>
        md.schemas.find((s) => s['schema-id'] === md['current-schema-id'])?.fields.map((f) => f.name) ?? [],
      () => [],
    );
    columnCache.set(name, cols);
  }
  return cols;
}

/** `{ ns: { table: [] } }`: what lang-sql completes after `ns.`. */
function schemaOf(tables: readonly TableRef[]): SQLNamespace {
  const root: Record<string, SQLNamespace> = {};
  for (const t of tables) {
    let level = root;
    for (const part of t.namespace) {
      level[part] ??= {};
      level = level[part] as Record<string, SQLNamespace>;
    }
    level[t.name] = [];
  }
  return root;
}

/** Page colours and fonts (custom properties reach into the shadow root). */
const theme = EditorView.theme({
  '&': {
    minHeight: '160px',
    border: '1px solid var(--border)',
    borderRadius: 'var(--radius)',
    background: 'var(--surface)',
    color: 'var(--text, inherit)',
    fontSize: '13px',
  },
  '&.cm-focused': { outline: '2px solid var(--accent-soft)' },
  '.cm-scroller': { fontFamily: 'var(--mono)' },
  '.cm-gutters': { background: 'var(--surface-2)', borderRight: '1px solid var(--border)' },
});

export default function SqlEditor({ value, onChange, onRun, label }: SqlEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView>(undefined);
  const callbacks = useRef({ onChange, onRun });
  callbacks.current = { onChange, onRun };
  const tables = useRef<TableRef[]>([]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the editor is created once; `value` syncs below
  useEffect(() => {
    const language = new Compartment();
    // Columns of every table the query names, as plain identifiers.
    const columnSource = async (ctx: CompletionContext): Promise<CompletionResult | null> => {
      const word = ctx.matchBefore(/[\w$]+/);
      if (!word && !ctx.explicit) return null;
      if (word && ctx.state.sliceDoc(word.from - 1, word.from) === '.') return null;
      const text = ctx.state.doc.toString();
      const named = tables.current.filter((t) =>
        new RegExp(`(^|[^\\w.])${qualifiedName(t).replaceAll('.', '\\.')}($|[^\\w])`).test(text),
      );
      if (named.length === 0) return null;
      const columns = await Promise.all(named.map(columnsOf));
      const options = named.flatMap((t, i) =>
        (columns[i] ?? []).map((c) => ({ label: c, type: 'property', detail: qualifiedName(t) })),
      );
      return { from: word?.from ?? ctx.pos, options, validFor: /^[\w$]*$/ };
    };
    const languageFor = (refs: readonly TableRef[]) => [
      sql({ dialect: PostgreSQL, schema: schemaOf(refs), upperCaseKeywords: true }),
      PostgreSQL.language.data.of({ autocomplete: columnSource }),
    ];
    // In a shadow root CodeMirror styles itself with constructed style sheets, which the UI's
    // Content-Security-Policy (style-src 'self') allows; in the document it would need inline <style>.
    const shadow = host.current?.shadowRoot ?? host.current?.attachShadow({ mode: 'open' });
    const mount = document.createElement('div');
    shadow?.appendChild(mount);
    const v = new EditorView({
      parent: mount,
      root: shadow,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup,
          theme,
          language.of(languageFor([])),
          autocompletion({ activateOnTyping: true }),
          Prec.highest(
            keymap.of([
              {
                key: 'Mod-Enter',
                run: () => {
                  callbacks.current.onRun();
                  return true;
                },
              },
            ]),
          ),
          EditorView.contentAttributes.of({ 'aria-label': label, 'aria-multiline': 'true' }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) callbacks.current.onChange(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    const stop = new AbortController();
    fetchAllTables(stop.signal).then(
      (refs) => {
        tables.current = refs;
        if (host.current) host.current.dataset.tables = String(refs.length);
        v.dispatch({ effects: language.reconfigure(languageFor(refs)) });
      },
      () => undefined,
    );
    return () => {
      stop.abort();
      v.destroy();
      mount.remove();
      view.current = undefined;
    };
  }, []);

  // A value set from outside (history, a link): replace the text.
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value)
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
  }, [value]);

  return <div ref={host} className="sql-codemirror" />;
}
