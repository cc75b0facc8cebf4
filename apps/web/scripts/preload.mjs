// After `vite build`: index.html (the page the server sends for every route) preloads the home
// route's modules and links its stylesheets too, so a browser fetches them with the entry modules,
// in one round trip, instead of learning of them only once the router has started.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { routeModules, routeStyles } from "./route-modules.mjs";

const build = fileURLToPath(new URL("../build", import.meta.url));
const indexFile = path.join(build, "index.html");
const html = readFileSync(indexFile, "utf8");
const href = (file) => `/${path.relative(build, file).split(path.sep).join("/")}`;
const absent = (url) => !html.includes(`"${url}"`);
const modules = [...routeModules(build, "/").page].map(href).filter(absent).sort();
const styles = routeStyles(build, "/").map(href).filter(absent).sort();
const links = [
  ...styles.map((url) => `<link rel="stylesheet" href="${url}">`),
  ...modules.map((url) => `<link rel="modulepreload" href="${url}">`),
];
writeFileSync(indexFile, html.replace("</head>", `${links.join("")}</head>`));
console.log(
  `index.html preloads ${modules.length} more modules and links ${styles.length} stylesheets of the home route`,
);
