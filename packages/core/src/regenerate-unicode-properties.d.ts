// The part of regenerate-unicode-properties (untyped) that the username rule uses.
declare module "regenerate-unicode-properties" {
  /** Each property's values as ECMAScript's `\p{...}` names them, e.g. "Script_Extensions" -> ["Adlam", ...]. */
  const properties: Map<string, string[]>;
  export default properties;
}
