/**
 * The ssh_config(5) keywords: the ones we honour, each with the shape of its value, and every
 * other keyword OpenSSH's client accepts (9.2, Debian's additions, and a few later ones),
 * which we accept and ignore. Anything else is "Bad configuration option", as in ssh(1).
 * Keywords are matched lower-cased; aliases map to the same setting, as readconf.c's table does.
 */

/** How a honoured keyword's arguments are read. */
export type ValueKind =
  /** One word, kept as written. */
  | "string"
  /** yes/true or no/false. */
  | "flag"
  /** 1-65535 or a service name. */
  | "port"
  /** A non-negative integer. */
  | "int"
  /** A time: seconds, or a sequence like 1h30m. */
  | "time"
  /** yes/no/ask/accept-new (StrictHostKeyChecking). */
  | "strict"
  /** any/inet/inet6. */
  | "address-family"
  /** yes/no/always (CanonicalizeHostname). */
  | "canonicalize"
  /** One or more words, `none` alone; first line wins as a whole. */
  | "file-list"
  /** One word per line; every active line adds one (IdentityFile, CertificateFile). */
  | "accumulate"
  /** An algorithm list in OpenSSH's syntax (+append, -remove, ^prepend). */
  | "algorithms"
  /** A ProxyJump list. */
  | "jump"
  /** The rest of the line as written (ProxyCommand). */
  | "command"
  /** IdentityAgent: a path, `none`, `SSH_AUTH_SOCK` or `$VAR`. */
  | "agent";

export interface HonouredKeyword {
  /** The spelling ssh_config(5) uses, for messages and `--verbose`. */
  name: string;
  /** The setting it fills (aliases share one). */
  setting: SettingName;
  kind: ValueKind;
}

export type SettingName =
  | "hostname"
  | "user"
  | "port"
  | "identityfile"
  | "identitiesonly"
  | "identityagent"
  | "certificatefile"
  | "proxyjump"
  | "proxycommand"
  | "userknownhostsfile"
  | "globalknownhostsfile"
  | "stricthostkeychecking"
  | "hostkeyalias"
  | "serveraliveinterval"
  | "serveralivecountmax"
  | "connecttimeout"
  | "ciphers"
  | "kexalgorithms"
  | "hostkeyalgorithms"
  | "macs"
  | "pubkeyacceptedalgorithms"
  | "preferredauthentications"
  | "passwordauthentication"
  | "kbdinteractiveauthentication"
  | "batchmode"
  | "addressfamily"
  | "canonicalizehostname"
  | "ignoreunknown";

const HONOURED: [string, HonouredKeyword][] = [];

function honour(name: string, kind: ValueKind, aliases: string[] = []): void {
  const setting = name.toLowerCase() as SettingName;
  for (const k of [setting, ...aliases]) HONOURED.push([k, { name, setting, kind }]);
}

honour("HostName", "string");
honour("User", "string");
honour("Port", "port");
honour("IdentityFile", "accumulate", ["identityfile2"]);
honour("IdentitiesOnly", "flag");
honour("IdentityAgent", "agent");
honour("CertificateFile", "accumulate");
honour("ProxyJump", "jump");
honour("ProxyCommand", "command");
honour("UserKnownHostsFile", "file-list");
honour("GlobalKnownHostsFile", "file-list");
honour("StrictHostKeyChecking", "strict");
honour("HostKeyAlias", "string");
// Debian's keepalive patch makes ProtocolKeepAlives and SetupTimeOut aliases of it.
honour("ServerAliveInterval", "time", ["protocolkeepalives", "setuptimeout"]);
honour("ServerAliveCountMax", "int");
honour("ConnectTimeout", "time");
honour("Ciphers", "algorithms");
honour("KexAlgorithms", "algorithms");
honour("HostKeyAlgorithms", "algorithms");
honour("MACs", "algorithms");
honour("PubkeyAcceptedAlgorithms", "algorithms", ["pubkeyacceptedkeytypes"]);
honour("PreferredAuthentications", "string");
honour("PasswordAuthentication", "flag");
honour("KbdInteractiveAuthentication", "flag", [
  "challengeresponseauthentication",
  "skeyauthentication",
  "tisauthentication",
]);
honour("BatchMode", "flag");
honour("AddressFamily", "address-family");
// Not a connection setting of ours, but it decides whether ssh reads the files twice.
honour("CanonicalizeHostname", "canonicalize");
honour("IgnoreUnknown", "string");

export const HONOURED_KEYWORDS: ReadonlyMap<string, HonouredKeyword> = new Map(HONOURED);

/** The block and file structure: handled by the resolver itself. */
export const STRUCTURE_KEYWORDS: ReadonlySet<string> = new Set(["host", "match", "include"]);

/** Valid in OpenSSH's client configuration; accepted and ignored here. */
export const IGNORED_KEYWORDS: ReadonlySet<string> = new Set([
  // OpenSSH 9.2's client keywords we do not act on.
  "addkeystoagent",
  "bindaddress",
  "bindinterface",
  "canonicaldomains",
  "canonicalizefallbacklocal",
  "canonicalizemaxdots",
  "canonicalizepermittedcnames",
  "casignaturealgorithms",
  "checkhostip",
  "clearallforwardings",
  "compression",
  "connectionattempts",
  "controlmaster",
  "controlpath",
  "controlpersist",
  "dsaauthentication",
  "dynamicforward",
  "enableescapecommandline",
  "enablesshkeysign",
  "escapechar",
  "exitonforwardfailure",
  "fingerprinthash",
  "forkafterauthentication",
  "forwardagent",
  "forwardx11",
  "forwardx11timeout",
  "forwardx11trusted",
  "gatewayports",
  "hashknownhosts",
  "hostbasedacceptedalgorithms",
  "hostbasedauthentication",
  "hostbasedkeytypes",
  "ipqos",
  "kbdinteractivedevices",
  "keepalive",
  "knownhostscommand",
  "localcommand",
  "localforward",
  "loglevel",
  "logverbose",
  "nohostauthenticationforlocalhost",
  "numberofpasswordprompts",
  "permitlocalcommand",
  "permitremoteopen",
  "pkcs11provider",
  "proxyusefdpass",
  "pubkeyauthentication",
  "rekeylimit",
  "remotecommand",
  "remoteforward",
  "requesttty",
  "requiredrsasize",
  "revokedhostkeys",
  "securitykeyprovider",
  "sendenv",
  "sessiontype",
  "setenv",
  "smartcarddevice",
  "stdinnull",
  "streamlocalbindmask",
  "streamlocalbindunlink",
  "syslogfacility",
  "tcpkeepalive",
  "tunnel",
  "tunneldevice",
  "updatehostkeys",
  "verifyhostkeydns",
  "visualhostkey",
  "xauthlocation",
  // GSSAPI, with Debian's key exchange additions.
  "gssapiauthentication",
  "gssapiclientidentity",
  "gssapidelegatecredentials",
  "gssapikexalgorithms",
  "gssapikeyexchange",
  "gssapirenewalforcesrekey",
  "gssapiserveridentity",
  "gssapitrustdns",
  // Deprecated or unsupported in OpenSSH itself: it accepts them with at most a notice.
  "afstokenpassing",
  "cipher",
  "compressionlevel",
  "fallbacktorsh",
  "globalknownhostsfile2",
  "kerberosauthentication",
  "kerberostgtpassing",
  "protocol",
  "rhostsauthentication",
  "rhostsrsaauthentication",
  "rsaauthentication",
  "useblacklistedkeys",
  "useprivilegedport",
  "userknownhostsfile2",
  "useroaming",
  "usersh",
  // Later OpenSSH releases (a config written for a newer ssh should still work with us).
  "channeltimeout",
  "obscurekeystroketiming",
  "tag",
]);
