/**
 * Which public names of a package have no TSDoc. A package's public API is what its
 * package.json `exports` lead to (docs/ARCHITECTURE.md "Where to add things", "A public
 * name"); every name exported there, and every public member of an exported class or
 * interface, carries a TSDoc comment that says what it is for. A `//` comment, or one on the
 * enclosing type only, does not count.
 *
 * Kept off the testkit index: it loads the TypeScript compiler, which only this check needs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";

/** The source files a package's `exports` map leads to (for each condition), relative paths. */
export function exportedEntries(packageDir: string): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")) as {
    exports: Record<string, string | Record<string, string>>;
  };
  const files = new Set<string>();
  for (const target of Object.values(manifest.exports))
    for (const file of typeof target === "string" ? [target] : Object.values(target)) files.add(file);
  return [...files].map((file) => path.join(packageDir, file));
}

/**
 * `entry name` for each exported name without TSDoc, `entry Type.member` for each public
 * member without it, in the files given (each a module's source); entries relative to the
 * working directory.
 */
export function undocumentedNames(entries: readonly string[]): string[] {
  const program = ts.createProgram([...entries], {
    allowImportingTsExtensions: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const documented = (s: ts.Symbol) => ts.displayPartsToString(s.getDocumentationComment(checker)).trim() !== "";
  const missing: string[] = [];
  const membersSeen = new Set<ts.Symbol>();
  for (const entry of entries) {
    const source = program.getSourceFile(entry);
    const module = source && checker.getSymbolAtLocation(source);
    if (module === undefined) throw new Error(`${entry}: not a module the TypeScript compiler can read`);
    const where = path.relative(process.cwd(), entry);
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (!documented(symbol)) missing.push(`${where} ${exported.name}`);
      if (!(symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) || membersSeen.has(symbol)) continue;
      membersSeen.add(symbol);
      symbol.members?.forEach((member, name) => {
        const declaration = member.declarations?.[0];
        if (declaration === undefined || String(name).startsWith("__")) return;
        const flags = ts.getCombinedModifierFlags(declaration);
        if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return;
        const declared = (declaration as ts.NamedDeclaration).name;
        if (declared !== undefined && ts.isPrivateIdentifier(declared)) return;
        if (!documented(member)) missing.push(`${where} ${exported.name}.${String(name)}`);
      });
    }
  }
  return missing;
}

/**
 * `undocumentedNames` for the package in `packageDir` (the directory of its package.json);
 * throws if its `exports` lead to no source at all.
 */
export function undocumentedNamesOf(packageDir: string): string[] {
  const entries = exportedEntries(packageDir);
  if (entries.length === 0) throw new Error(`${packageDir}: package.json exports nothing`);
  return undocumentedNames(entries);
}
