// `npm run bench:check` runs this name; the benchmark itself is check-speed.mjs.
import "./check-speed.mjs";
