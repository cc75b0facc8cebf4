// A deterministic, realistic-looking notes corpus for the search benchmark: a ~5,000-word
// vocabulary (common English words first, then invented words, a few with accents) drawn with a
// Zipf-like distribution, so some words are everywhere and most are rare, as in real text.

/** mulberry32: small, fast and good enough to make the same corpus on every run. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COMMON = `the of and to a in is that for it as was with be by on not he this are or his from at which but
have an they you were her she there been one all we their has would when if so no will more can out up other
what about into than them some could time only new these two may first then do any like my now over such our
man me even most made after also did many before must through back years where much your way well down should
because each just those people how too little state good very make world still own see men work long get here
between both life being under never day same another know while last might us great old year off come since
against go came right used take three meeting project notes idea plan list call email budget report review draft
team client design travel recipe garden house school doctor invoice payment deadline morning evening weekend
coffee dinner lunch book music movie shopping birthday holiday flight hotel ticket password backup server
update release bug feature question answer summary agenda minutes follow`.split(/\s+/);

const ACCENTED = [
  "café",
  "crème",
  "naïve",
  "façade",
  "résumé",
  "jalapeño",
  "über",
  "señor",
  "déjà",
  "smörgåsbord",
  "piñata",
  "crêpe",
  "fiancé",
  "entrée",
  "doppelgänger",
  "açaí",
  "brûlée",
  "garçon",
  "touché",
  "müsli",
];

const ONSETS = [
  "b",
  "c",
  "d",
  "f",
  "g",
  "h",
  "j",
  "k",
  "l",
  "m",
  "n",
  "p",
  "r",
  "s",
  "t",
  "v",
  "w",
  "z",
  "br",
  "ch",
  "cl",
  "dr",
  "fl",
  "gr",
  "pl",
  "pr",
  "sh",
  "sl",
  "st",
  "str",
  "th",
  "tr",
];
const VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ee", "io", "ou", "oa"];
const CODAS = ["", "", "", "n", "r", "s", "t", "l", "m", "nd", "rt", "st", "ck", "ng"];
const ACCENT_OF = { a: "à", e: "é", i: "ï", o: "ö", u: "ü", c: "ç", n: "ñ" };

export function vocabulary(size = 5000, seed = 42) {
  const random = prng(seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const words = [...new Set(COMMON)];
  const seen = new Set(words);
  const invented = [];
  for (const w of ACCENTED) if (!seen.has(w)) (seen.add(w), invented.push(w));
  while (words.length + invented.length < size) {
    const syllables = 1 + Math.floor(random() * 3) + (random() < 0.3 ? 1 : 0);
    let word = "";
    for (let s = 0; s < syllables; s++) word += pick(ONSETS) + pick(VOWELS) + (s === syllables - 1 ? pick(CODAS) : "");
    if (random() < 0.04) {
      const at = [...word].findIndex((ch, i) => i > 0 && ACCENT_OF[ch]);
      if (at > 0) word = word.slice(0, at) + ACCENT_OF[word[at]] + word.slice(at + 1);
    }
    if (word.length < 3 || word.length > 14 || seen.has(word)) continue;
    seen.add(word);
    invented.push(word);
  }
  // The invented words take the ranks after the common ones in a shuffled order, so accented
  // and long words turn up among both frequent and rare words.
  for (let i = invented.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [invented[i], invented[j]] = [invented[j], invented[i]];
  }
  return [...words, ...invented];
}

/** Samples word ranks with probability proportional to 1 / (rank + 2.7)^1.0 (Zipf-Mandelbrot). */
export function zipfSampler(size, random, exponent = 1.0, shift = 2.7) {
  const cdf = new Float64Array(size);
  let total = 0;
  for (let r = 0; r < size; r++) cdf[r] = total += 1 / Math.pow(r + 1 + shift, exponent);
  for (let r = 0; r < size; r++) cdf[r] /= total;
  return () => {
    const u = random();
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const capitalize = (w) => w.charAt(0).toUpperCase() + w.slice(1);

/**
 * Yields `count` notes in creation order: `{ i, owner, title, description, createdAt, updatedAt,
 * deletedAt }`, where `owner` is -1 for the measured user (every `1 / measuredShare`-th note)
 * and 0..otherUsers-1 otherwise. Dates are epoch milliseconds.
 */
export function* notes({ count, otherUsers, measuredEvery = 100, seed = 7, words = vocabulary(), now = Date.now() }) {
  const random = prng(seed);
  const rank = zipfSampler(words.length, random);
  const span = 2 * 365 * 24 * 3600 * 1000;
  const start = now - span;
  const day = 24 * 3600 * 1000;
  const wordsOf = (n) => {
    const out = new Array(n);
    for (let k = 0; k < n; k++) out[k] = words[rank()];
    return out;
  };
  for (let i = 0; i < count; i++) {
    const owner = i % measuredEvery === 37 % measuredEvery ? -1 : Math.floor(random() * otherUsers);
    const title = wordsOf(3 + Math.floor(random() * 6));
    title[0] = capitalize(title[0]);
    const body = wordsOf(30 + Math.floor(random() * 91));
    let description = "";
    let sentence = 0;
    for (let k = 0; k < body.length; k++) {
      const w = sentence === 0 ? capitalize(body[k]) : body[k];
      description += w;
      sentence++;
      if (k === body.length - 1) description += ".";
      else if (sentence > 6 && random() < 0.15) ((description += random() < 0.1 ? ".\n\n" : ". "), (sentence = 0));
      else description += random() < 0.05 ? ", " : " ";
    }
    const createdAt = Math.floor(start + (i / count) * span + random() * 60_000);
    const updatedAt = random() < 0.3 ? Math.min(now, createdAt + Math.floor(random() * 30 * day)) : createdAt;
    const deletedAt = random() < 0.02 ? now - Math.floor(random() * 20 * day) : null;
    yield { i, owner, title: title.join(" "), description, createdAt, updatedAt, deletedAt };
  }
}

/** A UUIDv7-shaped id from a millisecond timestamp: time-ordered like the app's own ids. */
export function uuidV7(ms, random) {
  const hex = (n, digits) => Math.floor(n).toString(16).padStart(digits, "0");
  const t = hex(ms, 12);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${hex(random() * 0x1000, 3)}-${hex(0x8000 + random() * 0x4000, 4)}-${hex(random() * 0x1000000, 6)}${hex(random() * 0x1000000, 6)}`;
}
