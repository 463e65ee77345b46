// The match page preloads every module main.js imports (templates/game/play.html), so the
// browser fetches them at once rather than one level of imports after another: the list
// must stay whole and point where the imports resolve.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const STATIC = join(ROOT, "static");
const page = readFileSync(join(ROOT, "templates/game/play.html"), "utf8");

/** The import map: bare specifier -> static path. */
function importMap() {
  const text = page.match(/<script type="importmap">([\s\S]*?)<\/script>/)[1];
  const map = {};
  for (const [, name, path] of text.matchAll(/"([^"]+)":\s*"\{% static '([^']+)' %\}"/g)) map[name] = path;
  return map;
}

/** Where a static path lives on disk (STATICFILES_DIRS: static/, and vendor/ from three's build). */
function file(path) {
  return path.startsWith("vendor/") ? join(ROOT, "node_modules/three/build", path.slice("vendor/".length)) : join(STATIC, path);
}

function graph(entry, map) {
  const seen = new Set();
  const visit = (path) => {
    if (seen.has(path)) return;
    seen.add(path);
    const source = readFileSync(file(path), "utf8");
    for (const [, spec] of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']/g)) {
      if (spec in map) visit(map[spec]);
      else if (spec.startsWith(".")) visit(relative(STATIC, join(STATIC, dirname(path), spec)));
      else assert.fail(`${path} imports ${spec}, which the import map does not name`);
    }
  };
  visit(entry);
  return seen;
}

test("the page preloads exactly the modules main.js imports, each at the URL it is imported from", () => {
  const map = importMap();
  assert.deepEqual(Object.keys(map).sort(), ["@msgpack/msgpack", "three"]);
  const wanted = graph("js/main.js", map);
  wanted.delete("js/main.js");
  assert.ok(wanted.size > 50 && wanted.has("vendor/three.core.js") && wanted.has("msgpack/Decoder.mjs"));
  const viaMap = new Set(Object.values(map));
  const preloaded = new Set();
  for (const [, href] of page.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)) {
    const byStatic = href.match(/^\{% static '([^']+)' %\}$/);
    const byPrefix = href.match(/^\{% get_static_prefix %\}(.+)$/);
    const path = byStatic?.[1] ?? byPrefix?.[1];
    assert.ok(path, `an odd preload href: ${href}`);
    // An import-map entry is fetched at its {% static %} URL (hashed when deployed); a relative
    // import at the unhashed one. A preload at another URL would fetch the module twice.
    assert.equal(!!byStatic, viaMap.has(path), `${path}: preload it at the URL it is imported from`);
    preloaded.add(path);
  }
  const missing = [...wanted].filter((p) => !preloaded.has(p));
  const extra = [...preloaded].filter((p) => !wanted.has(p));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, "update the modulepreload links in templates/game/play.html");
});
