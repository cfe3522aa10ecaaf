// GOV.UK Frontend's components (character count, error summary focus, ...) and our own enhancements.
// Everything here is progressive enhancement: every page works without JavaScript.
import { initAll } from "/assets/govuk-frontend.min.js";
import { initCaseMaps } from "/static/js/case-map.mjs";
import { initLocationButtons } from "/static/js/location.mjs";

initAll();
initLocationButtons(document);
initCaseMaps(document);
