// The shared type-checked rules for TypeScript, plus eslint-plugin-svelte for components.
import base, { tseslint } from "@notebox/eslint-config";
import svelte from "eslint-plugin-svelte";
import svelteConfig from "./svelte.config.js";

export default tseslint.config(...base, ...svelte.configs.recommended, {
  files: ["**/*.svelte", "**/*.svelte.ts"],
  languageOptions: {
    parserOptions: {
      projectService: true,
      extraFileExtensions: [".svelte"],
      parser: tseslint.parser,
      svelteConfig,
    },
  },
  rules: {
    // TypeScript (svelte-check) already reports unknown names, and knows the browser globals.
    "no-undef": "off",
  },
});
