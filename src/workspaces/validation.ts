// A workspace's timezone and language: checked against what this runtime's Intl knows, and stored in
// their canonical spelling, so that every reader (the console, a host product) can use them as is.
import { fieldError } from "../core/errors.js";

/** IANA zone names, by their lower-case spelling (Intl accepts any case; we store the canonical one). */
let zones: Map<string, string> | undefined;
function knownZones(): Map<string, string> {
  zones ??= new Map([...Intl.supportedValuesOf("timeZone"), "UTC"].map((z) => [z.toLowerCase(), z]));
  return zones;
}

// An IANA name is letters and a few signs, in segments separated by "/". This refuses UTC offsets
// ("+02:00"), which newer ICU versions accept as zones but which are not places: they ignore DST.
const ZONE_SHAPE = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** The canonical IANA name for `timezone`, or a 400 naming `field`. */
export function canonicalTimezone(timezone: string, field = "timezone"): string {
  const name = timezone.trim();
  const known = knownZones().get(name.toLowerCase());
  if (known) return known;
  if (name.length <= 64 && ZONE_SHAPE.test(name)) {
    try {
      // An alias that is not in the canonical list (Europe/Kiev, Etc/UTC): keep the zone it names.
      const resolved = new Intl.DateTimeFormat("en", { timeZone: name }).resolvedOptions().timeZone;
      if (resolved && ZONE_SHAPE.test(resolved)) return resolved;
    } catch {
      // Not a zone: answered below.
    }
  }
  throw fieldError(field, `"${timezone}" is not an IANA time zone name (e.g. "Europe/Paris" or "UTC").`);
}

/** The canonical BCP 47 form of `language` ("en-gb" → "en-GB"), or a 400 naming `field`. */
export function canonicalLanguage(language: string, field = "language"): string {
  let canonical: string | undefined;
  try {
    [canonical] = Intl.getCanonicalLocales(language.trim());
  } catch {
    canonical = undefined;
  }
  if (!canonical || canonical.length < 2 || canonical.length > 35) {
    throw fieldError(field, `"${language}" is not a BCP 47 language tag (e.g. "en", "pt-BR").`);
  }
  return canonical;
}
