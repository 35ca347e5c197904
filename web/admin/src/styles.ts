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
  th button.sort:focus-visible,
  select:focus-visible {
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
  label.select {
    display: flex;
    flex-direction: column;
    gap: 2px;
  }
  select {
    font: inherit;
    min-height: 32px;
    padding: 0 8px;
    color: var(--colorNeutralForeground1);
    background: var(--colorNeutralBackground1);
    border: 1px solid var(--colorNeutralStroke1);
    border-radius: var(--borderRadiusMedium);
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
  fluent-message-bar {
    margin-bottom: 12px;
  }
`;
