// Choices the console offers in more than one place: time zones, languages, invitation lifetimes.

/** The browser's own time zone, e.g. "Europe/Paris" ("UTC" when it cannot tell). */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

function offsetOf(zone: string, at: Date): string {
  try {
    const part = new Intl.DateTimeFormat("en-GB", { timeZone: zone, timeZoneName: "longOffset" })
      .formatToParts(at)
      .find((p) => p.type === "timeZoneName");
    return part?.value ?? "";
  } catch {
    return "";
  }
}

let zoneCache: { value: string; label: string }[] | undefined;

/**
 * Every IANA time zone the browser knows, with its current offset ("Europe/Paris (GMT+01:00)");
 * `current` (a saved value) is kept even when this browser does not know it.
 */
export function timeZoneOptions(current?: string): { value: string; label: string }[] {
  const all = allTimeZones();
  return current && !all.some((z) => z.value === current)
    ? [...all, { value: current, label: current }]
    : all;
}

function allTimeZones(): { value: string; label: string }[] {
  if (zoneCache) return zoneCache;
  const zones = new Set<string>(
    typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [],
  );
  zones.add("UTC");
  zones.add(browserTimeZone());
  const now = new Date();
  zoneCache = [...zones]
    .sort((a, b) => (a === "UTC" ? -1 : b === "UTC" ? 1 : a.localeCompare(b)))
    .map((zone) => {
      const offset = offsetOf(zone, now);
      return { value: zone, label: offset ? `${zone.replaceAll("_", " ")} (${offset})` : zone };
    });
  return zoneCache;
}

/** BCP 47 tags a workspace is commonly run in; the server stores the canonical form. */
const LANGUAGE_TAGS = [
  "en",
  "en-GB",
  "en-US",
  "fr",
  "de",
  "es",
  "pt-BR",
  "pt-PT",
  "it",
  "nl",
  "sv",
  "da",
  "nb",
  "fi",
  "pl",
  "cs",
  "tr",
  "el",
  "ru",
  "uk",
  "ar",
  "he",
  "fa",
  "hi",
  "bn",
  "ur",
  "sw",
  "am",
  "ha",
  "yo",
  "zu",
  "id",
  "ms",
  "th",
  "vi",
  "ja",
  "ko",
  "zh-Hans",
  "zh-Hant",
];

/** The offered languages by name ("French (fr)"); `current` (a saved value) is kept even when not offered. */
export function languageOptions(current?: string): { value: string; label: string }[] {
  let names: Intl.DisplayNames | undefined;
  try {
    names = new Intl.DisplayNames(["en"], { type: "language" });
  } catch {
    names = undefined;
  }
  const tags = current && !LANGUAGE_TAGS.includes(current) ? [...LANGUAGE_TAGS, current] : LANGUAGE_TAGS;
  return tags.map((tag) => {
    const name = names?.of(tag);
    return { value: tag, label: name && name !== tag ? `${name} (${tag})` : tag };
  });
}

/** The browser's language if offered (or its base language), else English. */
export function browserLanguage(): string {
  const wanted = typeof navigator === "undefined" ? [] : navigator.languages;
  for (const tag of wanted) {
    if (LANGUAGE_TAGS.includes(tag)) return tag;
    const base = tag.split("-")[0] ?? "";
    if (LANGUAGE_TAGS.includes(base)) return base;
  }
  return "en";
}

export const EXPIRY_OPTIONS = [
  { value: "24", label: "1 day" },
  { value: "72", label: "3 days" },
  { value: "168", label: "7 days" },
  { value: "336", label: "14 days" },
  { value: "720", label: "30 days" },
];

export const DEFAULT_EXPIRY = "168";

/** "72" → "3 days". */
export function expiryLabel(hours: string): string {
  return EXPIRY_OPTIONS.find((e) => e.value === hours)?.label ?? `${hours} hours`;
}
