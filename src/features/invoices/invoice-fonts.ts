import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The invoice's fonts: Noto Sans (Latin, with Łł, ₹ and the like) and Noto Sans
 * Devanagari, both OFL, shipped by the @expo-google-fonts npm packages as full
 * TrueType files and embedded (subset) in every PDF. pdfkit's standard fonts
 * know only WinAnsi: they print `ज़ोया Łukasz` as garbage. No single Noto font
 * covers every script, so text is set run by run, each script in its own font;
 * fontkit shapes each run (conjuncts, matras) with the font's OpenType tables.
 */
const require = createRequire(import.meta.url);

const FONT_FILES = {
  latin: '@expo-google-fonts/noto-sans/400Regular/NotoSans_400Regular.ttf',
  'latin-bold': '@expo-google-fonts/noto-sans/700Bold/NotoSans_700Bold.ttf',
  devanagari: '@expo-google-fonts/noto-sans-devanagari/400Regular/NotoSansDevanagari_400Regular.ttf',
  'devanagari-bold': '@expo-google-fonts/noto-sans-devanagari/700Bold/NotoSansDevanagari_700Bold.ttf',
} as const;

export type InvoiceFont = keyof typeof FONT_FILES;
export type Script = 'latin' | 'devanagari';

// Read once per process (about 1.7 MB in all); pdfkit embeds only the glyphs a PDF uses.
let loaded: Record<InvoiceFont, Buffer> | undefined;

/** The font files, by the names the renderer registers them under. */
export function invoiceFonts(): Record<InvoiceFont, Buffer> {
  loaded ??= Object.fromEntries(
    Object.entries(FONT_FILES).map(([name, file]) => [name, readFileSync(require.resolve(file))]),
  ) as Record<InvoiceFont, Buffer>;
  return loaded;
}

/**
 * The Latin font's ascent, in units of the font size (hhea ascender / unitsPerEm).
 * pdfkit sets each run's baseline one ascent below the top of the line, by the
 * run's own font: Noto Sans Devanagari's is taller, so a mixed line would step.
 * Every run is placed by this one ascent instead.
 */
export function latinAscent(): number {
  const font = invoiceFonts().latin;
  const table = (tag: string) => {
    for (let i = 0, count = font.readUInt16BE(4); i < count; i++) {
      const entry = 12 + 16 * i;
      if (font.toString('latin1', entry, entry + 4) === tag) return font.readUInt32BE(entry + 8);
    }
    throw new Error(`the invoice font has no ${tag} table`);
  };
  return font.readInt16BE(table('hhea') + 4) / font.readUInt16BE(table('head') + 18);
}

export function fontFor(script: Script, bold: boolean): InvoiceFont {
  return bold ? `${script}-bold` : script;
}

// Devanagari letters, signs and digits, and the dandas and Vedic marks Devanagari shares.
const DEVANAGARI = /\p{Script_Extensions=Devanagari}/u;
// Characters of no script of their own (spaces, punctuation, digits, combining marks,
// joiners) stay in the run around them, so a shaper sees whole clusters and words.
const NEUTRAL = /^(?:[\s\p{P}\p{N}\p{M}]|\u200C|\u200D)$/u;

/** Splits text into runs of one script each, in logical order. */
export function scriptRuns(text: string): Array<{ script: Script; text: string }> {
  const runs: Array<{ script: Script; text: string }> = [];
  let pending = ''; // neutral characters before the first run's script is known
  for (const char of text) {
    const last = runs.at(-1);
    const devanagari = DEVANAGARI.test(char);
    if (!devanagari && NEUTRAL.test(char)) {
      if (last) last.text += char;
      else pending += char;
      continue;
    }
    const script: Script = devanagari ? 'devanagari' : 'latin';
    if (last?.script === script) last.text += char;
    else {
      runs.push({ script, text: pending + char });
      pending = '';
    }
  }
  if (pending) runs.push({ script: 'latin', text: pending });
  return runs;
}
