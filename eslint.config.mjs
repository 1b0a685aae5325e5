// ESLint for deepviz/app/static/js: plain ES modules run by the browser as they are (no build step),
// under a strict CSP. Run by scripts/test as `npx eslint --max-warnings 0 deepviz/app/static/js`.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended, // no-undef, no-unused-vars, no-dupe-keys, no-unreachable, no-constant-binary-expression, …
  {
    files: ["deepviz/app/static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // a leftover variable or import is often the trace of a half-pasted block
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "all", ignoreRestSiblings: true }],
      // == coerces ("" == 0): the URL's values are strings, so compare them exactly
      eqeqeq: ["error", "always"],
      // a name that hides an outer one (an import, the module's state) reads the wrong value
      "no-shadow": ["error", { builtinGlobals: false, hoist: "functions", allow: ["_"] }],
      // a const or let read before its line throws (temporal dead zone) when that line runs first
      "no-use-before-define": ["error", { functions: false, classes: true, variables: false }],
      // browser globals with everyday names: `event`, `name` or `status` typed by mistake would
      // pass no-undef and read window's property instead of a local
      "no-restricted-globals": ["error", "event", "name", "status", "length", "top", "parent", "self",
        "close", "closed", "opener", "origin", "history", "find", "print", "stop", "open", "scroll"],
      // every request goes through api.js, which gives it a timeout, an error path and retries
      "no-restricted-properties": ["error", { object: "window", property: "fetch", message: "use api.js" }],
      // promises: a value returned from an executor is lost; an async executor loses its errors
      "no-promise-executor-return": "error",
      "no-async-promise-executor": "error",
      // .map(x => { f(x) }) without return: an array of undefined
      "array-callback-return": ["error", { checkForEach: false }],
      // code the strict CSP refuses at run time (no 'unsafe-eval'): refuse it at lint time
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-script-url": "error",
      // defects that are rarely intended
      "no-self-compare": "error",
      "no-template-curly-in-string": "error",
      "no-unmodified-loop-condition": "error",
      "no-unreachable-loop": "error",
      "no-unused-expressions": ["error", { allowShortCircuit: false, allowTernary: false }],
      "no-useless-assignment": "error",
      "no-constructor-return": "error",
      "no-var": "error",
      "prefer-const": "error",
      "no-console": "error", // the browser tests fail on console errors; leftover logging goes too
    },
  },
  {
    // api.js alone may call fetch
    files: ["deepviz/app/static/js/**/*.js"],
    ignores: ["deepviz/app/static/js/api.js"],
    rules: { "no-restricted-globals": ["error", "event", "name", "status", "length", "top", "parent", "self",
      "close", "closed", "opener", "origin", "history", "find", "print", "stop", "open", "scroll",
      { name: "fetch", message: "requests go through api.js (timeout, error path, retries)" }] },
  },
];
