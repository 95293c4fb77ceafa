// Unicode data for Unicode mode `(?u)`: `\p{…}` classes, the Unicode `\d \s \w`, simple case
// folding and word characters. Instead of shipping tables, ranges are read once (lazily, per
// property, cached) from the JavaScript engine's own Unicode support, by running its `\p{…}` over
// a string of every code point (some 40 ms per property on first use), so the Unicode version is
// the engine's. Name lookup follows Rust's: case, spaces, `_` and `-` are ignored, and a leading
// "is" is optional.
//
// Supported: General_Category (gc), Script (sc), Script_Extensions (scx) and the binary properties
// ECMAScript knows (Alphabetic, White_Space, Emoji, …). Rust also has Age, Grapheme_Cluster_Break,
// Word_Break, Sentence_Break and a few binary properties JavaScript lacks (Hyphen, Other_*…):
// those are rejected here as unsupported.
import type { PerlKind } from './ast.ts';
import { canonicalize, contains, type Ranges } from './intervals.ts';

/** The ranges of a `\p{name}` / `\p{name=value}` query, or why there are none (a message). */
export function unicodePropertyRanges(name: string, value: string | undefined): Ranges | string {
  const resolved = value === undefined ? resolveName(normalize(name)) : resolveNameValue(normalize(name), normalize(value));
  return 'error' in resolved ? resolved.error : cachedScan(resolved.jsClass);
}

/** `\d`, `\s`, `\w` in Unicode mode (UTS #18 definitions, as Rust). */
export function unicodePerlRanges(kind: PerlKind): Ranges {
  return rangesOf(PERL_CLASSES[kind]);
}

const PERL_CLASSES: Record<PerlKind, string> = {
  digit: '\\p{Nd}',
  space: '\\p{White_Space}',
  word: '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}',
};

export function isUnicodeWordChar(cp: number): boolean {
  if (cp < 0x80) {
    return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f;
  }
  return contains(rangesOf(PERL_CLASSES.word), cp);
}

/** The characters that simple case folding makes equivalent to `cp` (itself included), if any. */
export function caseFoldOrbit(cp: number): readonly number[] | undefined {
  return foldOrbits().get(cp);
}

/** Closes a set of code points under simple case folding. */
export function caseFoldRanges(ranges: Ranges): number[] {
  const added: number[] = [...ranges];
  for (const [cp, orbit] of foldOrbits()) {
    if (contains(ranges, cp)) for (const other of orbit) added.push(other, other);
  }
  return canonicalize(added);
}

// ---- names

type Resolved = { readonly jsClass: string } | { readonly error: string };

/** Rust's loose matching of property names and values. */
function normalize(name: string): string {
  let text = name;
  const startsWithIs = /^is/i.test(text);
  if (startsWithIs) text = text.slice(2);
  let out = '';
  for (const ch of text) {
    if (ch === ' ' || ch === '_' || ch === '-') continue;
    if (ch.charCodeAt(0) <= 0x7f) out += ch.toLowerCase();
  }
  // Rust keeps "isc" whole rather than reading it as "is" + "c".
  return startsWithIs && out === 'c' ? 'isc' : out;
}

/** One name: a binary property, else a general category, else a script (Rust's order). */
function resolveName(name: string): Resolved {
  if (name !== 'cf' && name !== 'sc' && name !== 'lc') {
    const binary = BINARY_PROPERTIES.get(name);
    if (binary !== undefined) return { jsClass: `\\p{${binary}}` };
  }
  return generalCategory(name) ?? script('Script', name) ?? { error: 'Unicode property not found' };
}

function resolveNameValue(name: string, value: string): Resolved {
  const canonical = PROPERTY_NAMES.get(name);
  if (canonical === undefined) return { error: 'Unicode property not found' };
  if (canonical === 'General_Category') return generalCategory(value) ?? { error: 'Unicode property value not found' };
  if (canonical === 'Script' || canonical === 'Script_Extensions') {
    return script(canonical, value) ?? { error: 'Unicode property value not found' };
  }
  return { error: `Unicode property ${canonical} is not supported by this engine` };
}

function generalCategory(value: string): Resolved | undefined {
  if (value === 'any') return { jsClass: '\\u{0}-\\u{10FFFF}' };
  if (value === 'ascii') return { jsClass: '\\u{0}-\\u{7F}' };
  if (value === 'assigned') return { jsClass: '\\p{Assigned}' };
  const canonical = GENERAL_CATEGORIES.get(value);
  return canonical === undefined ? undefined : { jsClass: `\\p{General_Category=${canonical}}` };
}

function script(property: 'Script' | 'Script_Extensions', value: string): Resolved | undefined {
  const canonical = SCRIPTS.get(value);
  return canonical === undefined ? undefined : { jsClass: `\\p{${property}=${canonical}}` };
}

/** Parses "Canonical_Name alias alias|…" into normalized name → canonical name. */
function aliasTable(text: string): ReadonlyMap<string, string> {
  const table = new Map<string, string>();
  for (const entry of text.split('|')) {
    const [canonical, ...aliases] = entry.split(' ');
    table.set(normalize(canonical), canonical);
    for (const alias of aliases) table.set(alias, canonical);
  }
  return table;
}

const PROPERTY_NAMES = aliasTable(
  'General_Category gc|Script sc|Script_Extensions scx|Age|Grapheme_Cluster_Break gcb|Word_Break wb|Sentence_Break sb',
);

// From Unicode's PropertyValueAliases.txt.
const GENERAL_CATEGORIES = aliasTable(
  'Cased_Letter lc|Close_Punctuation pe|Connector_Punctuation pc|Control cc cntrl|Currency_Symbol sc|' +
    'Dash_Punctuation pd|Decimal_Number digit nd|Enclosing_Mark me|Final_Punctuation pf|Format cf|' +
    'Initial_Punctuation pi|Letter l|Letter_Number nl|Line_Separator zl|Lowercase_Letter ll|' +
    'Mark combiningmark m|Math_Symbol sm|Modifier_Letter lm|Modifier_Symbol sk|Nonspacing_Mark mn|' +
    'Number n|Open_Punctuation ps|Other c|Other_Letter lo|Other_Number no|Other_Punctuation po|' +
    'Other_Symbol so|Paragraph_Separator zp|Private_Use co|Punctuation p punct|Separator z|' +
    'Space_Separator zs|Spacing_Mark mc|Surrogate cs|Symbol s|Titlecase_Letter lt|Unassigned cn|' +
    'Uppercase_Letter lu',
);

const SCRIPTS = aliasTable(
  'Adlam adlm|Ahom|Anatolian_Hieroglyphs hluw|Arabic arab|Armenian armn|Avestan avst|Balinese bali|' +
    'Bamum bamu|Bassa_Vah bass|Batak batk|Bengali beng|Bhaiksuki bhks|Bopomofo bopo|Brahmi brah|' +
    'Braille brai|Buginese bugi|Buhid buhd|Canadian_Aboriginal cans|Carian cari|Caucasian_Albanian aghb|' +
    'Chakma cakm|Cham|Cherokee cher|Chorasmian chrs|Common zyyy|Coptic copt qaac|Cuneiform xsux|' +
    'Cypriot cprt|Cypro_Minoan cpmn|Cyrillic cyrl|Deseret dsrt|Devanagari deva|Dives_Akuru diak|' +
    'Dogra dogr|Duployan dupl|Egyptian_Hieroglyphs egyp|Elbasan elba|Elymaic elym|Ethiopic ethi|' +
    'Garay gara|Georgian geor|Glagolitic glag|Gothic goth|Grantha gran|Greek grek|Gujarati gujr|' +
    'Gunjala_Gondi gong|Gurmukhi guru|Gurung_Khema gukh|Han hani|Hangul hang|Hanifi_Rohingya rohg|' +
    'Hanunoo hano|Hatran hatr|Hebrew hebr|Hiragana hira|Imperial_Aramaic armi|Inherited qaai zinh|' +
    'Inscriptional_Pahlavi phli|Inscriptional_Parthian prti|Javanese java|Kaithi kthi|Kannada knda|' +
    'Katakana kana|Katakana_Or_Hiragana hrkt|Kawi|Kayah_Li kali|Kharoshthi khar|' +
    'Khitan_Small_Script kits|Khmer khmr|Khojki khoj|Khudawadi sind|Kirat_Rai krai|Lao laoo|' +
    'Latin latn|Lepcha lepc|Limbu limb|Linear_A lina|Linear_B linb|Lisu|Lycian lyci|Lydian lydi|' +
    'Mahajani mahj|Makasar maka|Malayalam mlym|Mandaic mand|Manichaean mani|Marchen marc|' +
    'Masaram_Gondi gonm|Medefaidrin medf|Meetei_Mayek mtei|Mende_Kikakui mend|Meroitic_Cursive merc|' +
    'Meroitic_Hieroglyphs mero|Miao plrd|Modi|Mongolian mong|Mro mroo|Multani mult|Myanmar mymr|' +
    'Nabataean nbat|Nag_Mundari nagm|Nandinagari nand|New_Tai_Lue talu|Newa|Nko nkoo|Nushu nshu|' +
    'Nyiakeng_Puachue_Hmong hmnp|Ogham ogam|Ol_Chiki olck|Ol_Onal onao|Old_Hungarian hung|' +
    'Old_Italic ital|Old_North_Arabian narb|Old_Permic perm|Old_Persian xpeo|Old_Sogdian sogo|' +
    'Old_South_Arabian sarb|Old_Turkic orkh|Old_Uyghur ougr|Oriya orya|Osage osge|Osmanya osma|' +
    'Pahawh_Hmong hmng|Palmyrene palm|Pau_Cin_Hau pauc|Phags_Pa phag|Phoenician phnx|' +
    'Psalter_Pahlavi phlp|Rejang rjng|Runic runr|Samaritan samr|Saurashtra saur|Sharada shrd|' +
    'Shavian shaw|Siddham sidd|SignWriting sgnw|Sinhala sinh|Sogdian sogd|Sora_Sompeng sora|' +
    'Soyombo soyo|Sundanese sund|Sunuwar sunu|Syloti_Nagri sylo|Syriac syrc|Tagalog tglg|' +
    'Tagbanwa tagb|Tai_Le tale|Tai_Tham lana|Tai_Viet tavt|Takri takr|Tamil taml|Tangsa tnsa|' +
    'Tangut tang|Telugu telu|Thaana thaa|Thai|Tibetan tibt|Tifinagh tfng|Tirhuta tirh|Todhri todr|' +
    'Toto|Tulu_Tigalari tutg|Ugaritic ugar|Unknown zzzz|Vai vaii|Vithkuqi vith|Wancho wcho|' +
    'Warang_Citi wara|Yezidi yezi|Yi yiii|Zanabazar_Square zanb',
);

// The binary properties of ECMAScript's `\p{…}` with their Unicode aliases (PropertyAliases.txt).
// Any, ASCII and Assigned are general-category-like names in Rust and are handled there.
const BINARY_PROPERTIES = aliasTable(
  'ASCII_Hex_Digit ahex|Alphabetic alpha|Bidi_Control bidic|Bidi_Mirrored bidim|Case_Ignorable ci|' +
    'Cased|Changes_When_Casefolded cwcf|Changes_When_Casemapped cwcm|Changes_When_Lowercased cwl|' +
    'Changes_When_NFKC_Casefolded cwkcf|Changes_When_Titlecased cwt|Changes_When_Uppercased cwu|Dash|' +
    'Default_Ignorable_Code_Point di|Deprecated dep|Diacritic dia|Emoji|Emoji_Component ecomp|' +
    'Emoji_Modifier emod|Emoji_Modifier_Base ebase|Emoji_Presentation epres|Extended_Pictographic extpict|' +
    'Extender ext|Grapheme_Base grbase|Grapheme_Extend grext|Hex_Digit hex|IDS_Binary_Operator idsb|' +
    'IDS_Trinary_Operator idst|ID_Continue idc|ID_Start ids|Ideographic ideo|Join_Control joinc|' +
    'Logical_Order_Exception loe|Lowercase lower|Math|Noncharacter_Code_Point nchar|' +
    'Pattern_Syntax patsyn|Pattern_White_Space patws|Quotation_Mark qmark|Radical|Regional_Indicator ri|' +
    'Sentence_Terminal sterm|Soft_Dotted sd|Terminal_Punctuation term|Unified_Ideograph uideo|' +
    'Uppercase upper|Variation_Selector vs|White_Space space wspace|XID_Continue xidc|XID_Start xids',
);

// ---- ranges from the JavaScript engine

const rangeCache = new Map<string, Ranges | string>();

/** Ranges of the code points in the JavaScript class `[contents]`, or a message if the engine rejects it. */
function cachedScan(contents: string): Ranges | string {
  let ranges = rangeCache.get(contents);
  if (ranges === undefined) {
    ranges = scan(contents);
    rangeCache.set(contents, ranges);
  }
  return ranges;
}

/** `cachedScan` for classes this module writes itself, which every engine with `\p{…}` accepts. */
function rangesOf(contents: string): Ranges {
  const ranges = cachedScan(contents);
  if (typeof ranges === 'string') throw new Error(`${ranges}: [${contents}]`);
  return ranges;
}

function scan(contents: string): Ranges | string {
  let pattern: RegExp;
  try {
    pattern = new RegExp(`[${contents}]+`, 'gu');
  } catch {
    return 'Unicode property not supported by this JavaScript engine';
  }
  const text = everyScalarValue();
  const ranges: number[] = [];
  for (const match of text.matchAll(pattern)) {
    const end = match.index + match[0].length;
    ranges.push(codePointAt(match.index), end > ASTRAL_START ? codePointAt(end - 2) : codePointAt(end - 1));
  }
  return ranges;
}

/**
 * Every scalar value in order, as UTF-16: U+0000–U+D7FF and U+E000–U+FFFF one unit each, then the
 * astral planes two units each, so an index converts back to its code point arithmetically.
 * Built on demand (about 4 MB) and not kept.
 */
function everyScalarValue(): string {
  const units = new Uint16Array(ASTRAL_START + 0x100000 * 2);
  for (let i = 0; i < 0xd800; i++) units[i] = i;
  for (let i = 0xd800; i < ASTRAL_START; i++) units[i] = i + 0x800;
  for (let cp = 0x10000, i = ASTRAL_START; cp <= 0x10ffff; cp++, i += 2) {
    units[i] = 0xd800 + ((cp - 0x10000) >> 10);
    units[i + 1] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
  }
  return new TextDecoder('utf-16le').decode(units);
}

const ASTRAL_START = 0xd800 + 0x2000;

function codePointAt(index: number): number {
  if (index < 0xd800) return index;
  if (index < ASTRAL_START) return index + 0x800;
  return 0x10000 + ((index - ASTRAL_START) >> 1);
}

// ---- simple case folding

let orbits: Map<number, readonly number[]> | undefined;

/**
 * Simple case folding classes, derived from the engine: characters are linked to their single-
 * character upper and lower case mappings, and a link is kept only if the engine's own case-
 * insensitive Unicode matching (which uses simple case folding) agrees, which drops the Turkic
 * dotless ı ↔ I pair, for one.
 */
function foldOrbits(): Map<number, readonly number[]> {
  if (orbits !== undefined) return orbits;
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let root = x;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!;
    parent.set(x, root);
    return root;
  };
  const cased = rangesOf('\\p{Changes_When_Casemapped}');
  for (let r = 0; r < cased.length; r += 2) {
    for (let cp = cased[r]; cp <= cased[r + 1]; cp++) {
      const ch = String.fromCodePoint(cp);
      for (const mapped of [ch.toLowerCase(), ch.toUpperCase()]) {
        const other = mapped.codePointAt(0)!;
        if (mapped === ch || mapped.length !== String.fromCodePoint(other).length) continue;
        if (!new RegExp(`^\\u{${cp.toString(16)}}$`, 'iu').test(mapped)) continue;
        parent.set(find(cp), find(other));
      }
    }
  }
  const members = new Map<number, number[]>();
  for (const cp of parent.keys()) {
    const root = find(cp);
    let list = members.get(root);
    if (list === undefined) members.set(root, (list = []));
    list.push(cp);
  }
  orbits = new Map();
  for (const list of members.values()) {
    list.sort((a, b) => a - b);
    for (const cp of list) orbits.set(cp, list);
  }
  return orbits;
}
