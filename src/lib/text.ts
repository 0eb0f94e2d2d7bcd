/** Escapes user text for use inside a RegExp, so a search for "a.b*" finds exactly that. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Text without control characters: they break logs, CSV exports and printed invoices. */
export const NO_CONTROL_CHARS = /^[^\p{Cc}]*$/u;
/** The same, for multi-line text: line breaks allowed, nothing else. */
export const NO_CONTROL_CHARS_BUT_NEWLINES = /^(?:[^\p{Cc}]|\r?\n)*$/u;
