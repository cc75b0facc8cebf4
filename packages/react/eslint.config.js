export { default } from "@notebox/eslint-config";
