// Styles every page shares, on Fluent's design tokens (so the dark theme follows).
import { css } from 'lit';

export const shared = css`
  :host {
    display: block;
    color: var(--colorNeutralForeground1);
    font-family: var(--fontFamilyBase);
    font-size: var(--fontSizeBase300);
    line-height: var(--lineHeightBase300);
  }
  h1 {
    font-size: var(--fontSizeHero700);
    line-height: var(--lineHeightHero700);
    font-weight: var(--fontWeightSemibold);
    margin: 0 0 16px;
  }
  h2 {
    font-size: var(--fontSizeBase500);
    line-height: var(--lineHeightBase500);
    font-weight: var(--fontWeightSemibold);
    margin: 24px 0 8px;
  }
  .card > h2:first-child,
  .card > .head:first-child h2 {
    margin-top: 0;
  }
  a {
    color: var(--colorBrandForegroundLink);
  }
  a:hover {
    color: var(--colorBrandForegroundLinkHover);
  }
  .toolbar {
    display: flex;
    flex-wrap: wrap;
    gap: 8px;
    align-items: end;
    margin: 8px 0 16px;
  }
  .toolbar fluent-text-input {
    width: 10em;
  }
  .card {
    background: var(--colorNeutralBackground1);
    border: 1px solid var(--colorNeutralStroke2);
    border-radius: var(--borderRadiusLarge);
    padding: 16px;
    margin-bottom: 16px;
  }
  table {
    border-collapse: collapse;
    width: 100%;
  }
  th,
  td {
    text-align: start;
    padding: 8px 12px;
    border-bottom: 1px solid var(--colorNeutralStroke2);
    vertical-align: top;
  }
  th {
    font-weight: var(--fontWeightSemibold);
  }
  td {
    overflow-wrap: anywhere;
  }
  th button.sort {
    all: unset;
    cursor: pointer;
    font-weight: var(--fontWeightSemibold);
  }
  th button.sort:focus-visible {
    outline: 2px solid var(--colorStrokeFocus2);
    outline-offset: 2px;
  }
  tbody tr:hover {
    background: var(--colorNeutralBackground1Hover);
  }
  dl.essentials {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(280px, 1fr));
    gap: 12px 32px;
    margin: 0;
  }
  dl.essentials div {
    display: flex;
    flex-direction: column;
  }
  dt {
    color: var(--colorNeutralForeground3);
  }
  dd {
    margin: 0;
    overflow-wrap: anywhere;
  }
  /* A field's label above its control, as Fluent's text inputs have theirs (and no gap for the
     message row a field without a message leaves empty, so it lines up with text inputs). */
  fluent-field[label-position='above'] {
    align-items: stretch;
    justify-items: stretch;
    row-gap: 0;
  }
  fluent-field[label-position='above'] > label {
    padding-bottom: var(--spacingVerticalXS);
  }
  /* As wide as a Fluent text input at most. */
  fluent-field.select {
    max-width: 400px;
  }
  /* The chosen option on one line, cut with an ellipsis when longer than the control. */
  fluent-dropdown > button[slot='control'] {
    white-space: nowrap;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  fluent-field.check label {
    cursor: pointer;
  }
  /* A radio's label in the text colour, as a checkbox's is (Fluent greys the ones not chosen,
     and misses the first choice made without a click). */
  fluent-radio-group > fluent-field {
    color: var(--colorNeutralForeground1);
  }
  /* A native date input dressed as a Fluent text input (Fluent 3 has no date picker). */
  input[type='date'] {
    font: inherit;
    box-sizing: border-box;
    min-height: 32px;
    padding: 0 var(--spacingHorizontalMNudge);
    color: var(--colorNeutralForeground1);
    background: var(--colorNeutralBackground1);
    border: 1px solid var(--colorNeutralStroke1);
    border-bottom-color: var(--colorNeutralStrokeAccessible);
    border-radius: var(--borderRadiusMedium);
  }
  input[type='date']:hover {
    border-color: var(--colorNeutralStroke1Hover);
    border-bottom-color: var(--colorNeutralStrokeAccessibleHover);
  }
  input[type='date']:focus-visible {
    outline: none;
    border-bottom: 2px solid var(--colorCompoundBrandStroke);
  }
  .icon {
    display: inline-flex;
    line-height: 0;
  }
  .icon svg {
    width: 20px;
    height: 20px;
  }
  fluent-badge .icon svg {
    width: 12px;
    height: 12px;
  }
  /* A badge in a table keeps its words whole: it grows a line rather than cut them. */
  td fluent-badge {
    overflow-wrap: normal;
    height: auto;
    min-height: 20px;
    padding-block: 1px;
    text-align: start;
  }
  .muted {
    color: var(--colorNeutralForeground3);
  }
  .form {
    display: flex;
    flex-direction: column;
    gap: 12px;
    max-width: 480px;
  }
  .actions {
    display: flex;
    gap: 8px;
    flex-wrap: wrap;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
  code,
  pre {
    font-family: var(--fontFamilyMonospace);
  }
  pre.command {
    background: var(--colorNeutralBackground3);
    padding: 12px;
    border-radius: var(--borderRadiusMedium);
    white-space: pre-wrap;
    overflow-wrap: anywhere;
  }
  /* Fluent's message bar sets its text in the caption size and a muted colour; a message is
     read as body text (Fluent's React MessageBar uses body1). */
  fluent-message-bar {
    margin-bottom: 12px;
    font-size: var(--fontSizeBase300);
    line-height: var(--lineHeightBase300);
    color: var(--colorNeutralForeground1);
  }
  fluent-message-bar .icon {
    color: var(--colorNeutralForeground3);
  }
  fluent-message-bar[intent='error'] .icon {
    color: var(--colorPaletteRedForeground1);
  }
  fluent-message-bar[intent='warning'] .icon {
    color: var(--colorPaletteDarkOrangeForeground1);
  }
  fluent-message-bar[intent='success'] .icon {
    color: var(--colorPaletteGreenForeground1);
  }
  fluent-message-bar[intent='info'] .icon {
    color: var(--colorBrandForeground1);
  }
`;
