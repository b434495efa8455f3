/** Arguments shared by the verbs that open SSH connections (OpenSSH list syntax). */
export const algorithmArgs = {
  "kex-algorithms": { type: "string", description: "KEX algorithms (comma list; +append, -remove, ^prepend)" },
  "host-key-algorithms": { type: "string", description: "host key algorithms (same syntax)" },
  ciphers: { type: "string", description: "ciphers (same syntax)" },
  macs: { type: "string", description: "MACs (same syntax)" },
  crypto: { type: "string", description: "auto (runtime accelerators, verified) | noble (pure noble)" },
} as const;
