/**
 * The host name ssh(1) ends up with after reading its configuration: names are lower-cased;
 * numeric addresses are put in canonical form instead (ssh.c's resolve_canonicalize asks
 * getaddrinfo(AI_NUMERICHOST) and getnameinfo(NI_NUMERICHOST)): `127.1` is `127.0.0.1`,
 * `FE80::0001` is `fe80::1`, and an address already canonical but for case is left as written.
 * That name is what `Match host`, `%h` and known_hosts then see.
 */

/** inet_aton's forms, as glibc's getaddrinfo takes them: a, a.b, a.b.c, a.b.c.d; octal and hex parts. */
function parseIPv4(s: string): number[] | undefined {
  const parts = s.split(".");
  if (parts.length < 1 || parts.length > 4) return undefined;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(p)) n = p.length === 2 ? 0 : Number.parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) n = p === "0" ? 0 : Number.parseInt(p, 8);
    else if (/^[1-9][0-9]*$/.test(p)) n = Number(p);
    else return undefined;
    nums.push(n);
  }
  // The last part fills the bytes the others leave.
  const lastBytes = 5 - nums.length;
  const last = nums[nums.length - 1]!;
  if (last >= 2 ** (8 * lastBytes)) return undefined;
  const head = nums.slice(0, -1);
  if (head.some((n) => n > 255)) return undefined;
  const bytes = [...head];
  for (let i = lastBytes - 1; i >= 0; i--) bytes.push(Math.floor(last / 2 ** (8 * i)) % 256);
  return bytes;
}

/** inet_pton's strict dotted quad (inside an IPv6 address): no leading zeros. */
function parseDottedQuad(s: string): number[] | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

/** Eight 16-bit words, or undefined (inet_pton(AF_INET6)). */
function parseIPv6(s: string): number[] | undefined {
  if (!s.includes(":")) return undefined;
  const double = s.indexOf("::");
  if (double >= 0 && s.indexOf("::", double + 1) >= 0) return undefined;
  const words = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const groups = part.split(":");
    for (const [i, g] of groups.entries()) {
      if (i === groups.length - 1 && g.includes(".")) {
        const q = parseDottedQuad(g);
        if (!q) return undefined;
        out.push((q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        out.push(Number.parseInt(g, 16));
      }
    }
    return out;
  };
  if (double < 0) {
    const all = words(s);
    return all && all.length === 8 ? all : undefined;
  }
  const head = words(s.slice(0, double));
  const tail = words(s.slice(double + 2));
  if (!head || !tail || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** inet_ntop(AF_INET6): the longest run of two or more zero words as `::`, IPv4 tails dotted. */
function formatIPv6(w: number[]): string {
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ":";
      continue;
    }
    if (i !== 0) out += ":";
    const embeddedV4 = i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff));
    if (embeddedV4) {
      out += `${w[6]! >> 8}.${w[6]! & 255}.${w[7]! >> 8}.${w[7]! & 255}`;
      break;
    }
    out += w[i]!.toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ":";
  return out;
}

/** The canonical text of a numeric address, or undefined when `host` is not one. */
export function canonicalAddress(host: string): string | undefined {
  const v4 = parseIPv4(host);
  if (v4) return v4.join(".");
  const v6 = parseIPv6(host);
  return v6 ? formatIPv6(v6) : undefined;
}

/** The name ssh connects to and matches against after its configuration is read. */
export function canonicalHostName(host: string): string {
  const address = canonicalAddress(host);
  if (address === undefined) return host.toLowerCase();
  return address.toLowerCase() === host.toLowerCase() ? host : address;
}
