// What a person recognises in a User-Agent header: the browser (or tool) and its major version,
// the operating system, and the kind of device, e.g. "Chrome 131 on Windows" on a desktop.
// No dependency and no DOM: the same function runs in the browser and in the unit tests.

export type DeviceKind = "desktop" | "phone" | "tablet" | "other";

export interface UserAgentInfo {
  /** "Chrome", "Safari", "curl", … or null when nothing is recognised. */
  browser: string | null;
  /** The major version for browsers ("131"), the full one for tools ("8.5.0"); null if absent. */
  version: string | null;
  /** "Windows", "macOS", "iPhone", "Android 14", "Ubuntu", "Linux", … or null. */
  os: string | null;
  device: DeviceKind;
  /** One line for people: "Chrome 131 on Windows", "Safari 17 on iPhone", "curl 8.5.0". */
  label: string;
}

/** Browsers, most specific first: Edge, Opera and others also say "Chrome" and "Safari". */
const BROWSERS: { name: string; pattern: RegExp }[] = [
  { name: "Edge", pattern: /\b(?:Edg|EdgA|EdgiOS|Edge)\/(\d+)/ },
  { name: "Opera", pattern: /\b(?:OPR|OPiOS|OPT)\/(\d+)/ },
  { name: "Samsung Internet", pattern: /\bSamsungBrowser\/(\d+)/ },
  { name: "Vivaldi", pattern: /\bVivaldi\/(\d+)/ },
  { name: "Yandex Browser", pattern: /\bYaBrowser\/(\d+)/ },
  { name: "Brave", pattern: /\bBrave\/(\d+)/ },
  { name: "Firefox", pattern: /\b(?:Firefox|FxiOS)\/(\d+)/ },
  { name: "Chrome", pattern: /\b(?:HeadlessChrome|Chrome|CriOS|Chromium)\/(\d+)/ },
  { name: "Internet Explorer", pattern: /\b(?:MSIE (\d+)|Trident\/.*\brv:(\d+))/ },
];

/** Tools and libraries that call the API, by the first product token of their User-Agent. */
const TOOLS: Record<string, string> = {
  curl: "curl",
  wget: "Wget",
  "python-requests": "Python requests",
  "python-urllib": "Python urllib",
  "python-httpx": "Python HTTPX",
  httpie: "HTTPie",
  postmanruntime: "Postman",
  insomnia: "Insomnia",
  "go-http-client": "Go HTTP client",
  okhttp: "OkHttp",
  node: "Node.js",
  "node-fetch": "Node.js",
  undici: "Node.js",
  axios: "Axios",
  java: "Java",
  "apache-httpclient": "Java HttpClient",
  ruby: "Ruby",
  dart: "Dart",
};

function osOf(ua: string): { os: string | null; device: DeviceKind } {
  if (/\biPad\b/.test(ua)) return { os: "iPad", device: "tablet" };
  if (/\biPhone\b/.test(ua)) return { os: "iPhone", device: "phone" };
  if (/\biPod\b/.test(ua)) return { os: "iPod", device: "phone" };
  const android = /\bAndroid(?: (\d+))?/.exec(ua);
  if (android) {
    const os = android[1] ? `Android ${android[1]}` : "Android";
    // Android phones say "Mobile"; tablets leave it out.
    return { os, device: /\bMobile\b/.test(ua) ? "phone" : "tablet" };
  }
  if (/\bWindows Phone\b/.test(ua)) return { os: "Windows Phone", device: "phone" };
  const windows = /\bWindows NT (\d+\.\d+)/.exec(ua);
  if (windows) {
    const version: Record<string, string> = { "6.1": "Windows 7", "6.2": "Windows 8", "6.3": "Windows 8.1" };
    return { os: version[windows[1] ?? ""] ?? "Windows", device: "desktop" };
  }
  if (/\bWindows\b/.test(ua)) return { os: "Windows", device: "desktop" };
  if (/\bCrOS\b/.test(ua)) return { os: "ChromeOS", device: "desktop" };
  if (/\bMac OS X\b|\bMacintosh\b/.test(ua)) return { os: "macOS", device: "desktop" };
  for (const distro of ["Ubuntu", "Fedora", "Debian"]) {
    if (new RegExp(`\\b${distro}\\b`).test(ua)) return { os: distro, device: "desktop" };
  }
  if (/\bLinux\b|\bX11\b/.test(ua)) return { os: "Linux", device: "desktop" };
  return { os: null, device: "other" };
}

function browserOf(ua: string): { browser: string; version: string | null } | null {
  for (const { name, pattern } of BROWSERS) {
    const m = pattern.exec(ua);
    if (m) return { browser: name, version: m[1] ?? m[2] ?? null };
  }
  // Safari last: every WebKit browser above says "Safari/…"; Safari's own version is "Version/…".
  if (/\bSafari\//.test(ua) || /\b(?:iPhone|iPad|Macintosh)\b.*\bAppleWebKit\//.test(ua)) {
    return { browser: "Safari", version: /\bVersion\/(\d+)/.exec(ua)?.[1] ?? null };
  }
  return null;
}

/** A tool's name and version from a User-Agent that is not a browser's ("curl/8.5.0"). */
function toolOf(ua: string): { browser: string; version: string | null } | null {
  const m = /^([A-Za-z][\w.-]*)(?:\/([\w.-]+))?/.exec(ua);
  if (!m?.[1] || m[1] === "Mozilla") return null;
  const name = TOOLS[m[1].toLowerCase()] ?? m[1];
  return { browser: name, version: m[2] ?? null };
}

export function parseUserAgent(userAgent: string | null | undefined): UserAgentInfo {
  const ua = (userAgent ?? "").trim();
  if (ua === "") return { browser: null, version: null, os: null, device: "other", label: "Unknown browser" };
  const { os, device } = osOf(ua);
  const found = browserOf(ua) ?? (ua.startsWith("Mozilla/") ? null : toolOf(ua));
  const name = found ? [found.browser, found.version].filter(Boolean).join(" ") : "Unknown browser";
  return {
    browser: found?.browser ?? null,
    version: found?.version ?? null,
    os,
    device,
    label: os ? `${name} on ${os}` : name,
  };
}
