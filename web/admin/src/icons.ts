/// <reference types="vite/client" />
// The Fluent System Icons the admin center shows (@fluentui/svg-icons), each imported on its own
// so the bundle keeps only these. Icons are decorative: they sit beside words that say the same,
// hidden from assistive technology, and take the colour of the text around them.
import { html, type TemplateResult } from 'lit';
import { unsafeSVG } from 'lit/directives/unsafe-svg.js';
import add from '@fluentui/svg-icons/icons/add_20_regular.svg?raw';
import arrowClockwise from '@fluentui/svg-icons/icons/arrow_clockwise_20_regular.svg?raw';
import arrowDownload from '@fluentui/svg-icons/icons/arrow_download_20_regular.svg?raw';
import checkmarkCircle from '@fluentui/svg-icons/icons/checkmark_circle_20_filled.svg?raw';
import checkmarkCircleSmall from '@fluentui/svg-icons/icons/checkmark_circle_16_regular.svg?raw';
import clock from '@fluentui/svg-icons/icons/clock_16_regular.svg?raw';
import columnTriple from '@fluentui/svg-icons/icons/column_triple_20_regular.svg?raw';
import desktopCursor from '@fluentui/svg-icons/icons/desktop_cursor_20_regular.svg?raw';
import dismissCircleSmall from '@fluentui/svg-icons/icons/dismiss_circle_16_regular.svg?raw';
import documentSearch from '@fluentui/svg-icons/icons/document_search_20_regular.svg?raw';
import errorCircle from '@fluentui/svg-icons/icons/error_circle_20_filled.svg?raw';
import home from '@fluentui/svg-icons/icons/home_20_regular.svg?raw';
import info from '@fluentui/svg-icons/icons/info_20_filled.svg?raw';
import laptop from '@fluentui/svg-icons/icons/laptop_20_regular.svg?raw';
import moreHorizontal from '@fluentui/svg-icons/icons/more_horizontal_20_regular.svg?raw';
import people from '@fluentui/svg-icons/icons/people_20_regular.svg?raw';
import person from '@fluentui/svg-icons/icons/person_20_regular.svg?raw';
import personSupport from '@fluentui/svg-icons/icons/person_support_20_regular.svg?raw';
import phoneAdd from '@fluentui/svg-icons/icons/phone_add_20_regular.svg?raw';
import plugConnected from '@fluentui/svg-icons/icons/plug_connected_20_regular.svg?raw';
import search from '@fluentui/svg-icons/icons/search_20_regular.svg?raw';
import shieldPerson from '@fluentui/svg-icons/icons/shield_person_20_regular.svg?raw';
import subtractCircleSmall from '@fluentui/svg-icons/icons/subtract_circle_16_regular.svg?raw';
import warning from '@fluentui/svg-icons/icons/warning_20_filled.svg?raw';

const ICONS = {
  add,
  arrowClockwise,
  arrowDownload,
  checkmarkCircle,
  checkmarkCircleSmall,
  clock,
  columnTriple,
  desktopCursor,
  dismissCircleSmall,
  documentSearch,
  errorCircle,
  home,
  info,
  laptop,
  moreHorizontal,
  people,
  person,
  personSupport,
  phoneAdd,
  plugConnected,
  search,
  shieldPerson,
  subtractCircleSmall,
  warning,
};
export type IconName = keyof typeof ICONS;

// Each SVG once, as markup that fills with the text colour and is hidden from readers.
const markup = Object.fromEntries(
  Object.entries(ICONS).map(([name, svg]) => [
    name,
    svg.replace('<svg ', '<svg fill="currentColor" aria-hidden="true" focusable="false" '),
  ]),
) as Record<IconName, string>;

// An icon; `slot` places it in a Fluent component ("start" of a button, "icon" of a message bar).
export function icon(name: IconName, slot?: string): TemplateResult {
  return slot
    ? html`<span class="icon" slot=${slot} aria-hidden="true">${unsafeSVG(markup[name])}</span>`
    : html`<span class="icon" aria-hidden="true">${unsafeSVG(markup[name])}</span>`;
}
