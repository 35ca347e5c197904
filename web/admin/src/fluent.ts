// Fluent UI web components: registered one by one (the bundle keeps only these), the theme
// (light or dark, as the system says, live), and the accessibility mirror below.
import {
  AnchorButton, AnchorButtonDefinition, Badge, BadgeDefinition, BaseAnchor, BaseButton,
  BaseCheckbox, BaseDropdown, BaseRadioGroup, BaseTextArea, BaseTextInput, Button, ButtonDefinition, Checkbox,
  CheckboxDefinition, Dialog, Dropdown, DropdownDefinition, DropdownOption, DropdownOptionDefinition, Field,
  FieldDefinition, DialogBody, DialogBodyDefinition, DialogDefinition, Link, LinkDefinition, Listbox,
  ListboxDefinition, Menu, MenuButton, MenuButtonDefinition, MenuDefinition, MenuItem,
  MenuItemDefinition, MenuList, MenuListDefinition, MessageBar, MessageBarDefinition, Radio,
  RadioDefinition, RadioGroup, RadioGroupDefinition, Spinner,
  SpinnerDefinition, Tab, TabDefinition, Tablist, TablistDefinition, TextArea,
  TextAreaDefinition, TextInput, TextInputDefinition, setTheme,
} from '@fluentui/web-components';
import { webDarkTheme, webLightTheme } from '@fluentui/tokens';

// Fluent 3 sets roles and states through ElementInternals. Chromium's accessibility tree reads
// them, but tools that read the DOM do not (Playwright's role selectors: microsoft/playwright
// #34264; axe-core: dequelabs/axe-core#4259), nor do older browsers. Mirroring the same role and
// states onto the host's attributes makes them visible to every reader; it adds nothing a
// screen reader in Chromium does not already get.
type Host = HTMLElement & {
  disabled?: boolean;
  checked?: boolean;
  currentSelected?: boolean;
  elementInternals?: ElementInternals;
  control?: HTMLElement;
  listbox?: HTMLElement;
};
function after(cls: { prototype: object }, method: string, fn: (this: Host, ...a: unknown[]) => void): void {
  const proto = cls.prototype as Record<string, unknown>;
  const orig = proto[method] as ((...a: unknown[]) => unknown) | undefined;
  proto[method] = function (this: Host, ...a: unknown[]) {
    const r = orig?.apply(this, a);
    fn.apply(this, a);
    return r;
  };
}
function role(el: Host, r: string | null | undefined): void {
  if (r && !el.hasAttribute('role')) el.setAttribute('role', r);
}
function disabledState(el: Host): void {
  if (el.disabled) el.setAttribute('aria-disabled', 'true');
  else el.removeAttribute('aria-disabled');
}
function mirrorAccessibility(): void {
  const roles: [{ prototype: object }, string][] = [
    [BaseButton, 'button'],
    [BaseAnchor, 'link'],
    [MenuList, 'menu'],
    [Listbox, 'listbox'],
    [DropdownOption, 'option'],
    [BaseRadioGroup, 'radiogroup'],
  ];
  for (const [cls, r] of roles) after(cls, 'connectedCallback', function () { role(this, r); });
  for (const cls of [BaseButton, MenuItem, DropdownOption]) {
    after(cls, 'connectedCallback', function () { disabledState(this); });
    after(cls, 'disabledChanged', function () { disabledState(this); });
  }
  after(BaseCheckbox, 'connectedCallback', function () {
    role(this, this.elementInternals?.role ?? 'checkbox');
    disabledState(this);
    this.setAttribute('aria-checked', String(!!this.checked));
  });
  after(BaseCheckbox, 'setAriaChecked', function () {
    this.setAttribute('aria-checked', String(!!this.checked));
  });
  after(BaseCheckbox, 'disabledChanged', function () { disabledState(this); });
  const selected = (el: Host) => el.setAttribute('aria-selected', String(!!el.currentSelected));
  after(DropdownOption, 'connectedCallback', function () { selected(this); });
  after(DropdownOption, 'currentSelectedChanged', function () { selected(this); });
  // A dropdown's combobox is a button Fluent makes inside it: it (and its list) take the name
  // the dropdown was given (a field's label sets aria-labelledby on the dropdown).
  const nameDropdown = function (this: Host) {
    const by = this.getAttribute('aria-labelledby');
    const name = this.getAttribute('aria-label');
    for (const el of [this.control, this.listbox]) {
      if (!el) continue;
      if (by) el.setAttribute('aria-labelledby', by);
      else if (name) el.setAttribute('aria-label', name);
    }
  };
  after(BaseDropdown, 'controlChanged', nameDropdown);
  // A combobox always says whether its list is open (Fluent leaves it out until first opened).
  const expanded = function (this: Host & { open?: boolean }) {
    this.control?.setAttribute('aria-expanded', String(!!this.open));
  };
  after(BaseDropdown, 'controlChanged', expanded);
  after(BaseDropdown, 'openChanged', expanded);
  after(BaseDropdown, 'listboxChanged', nameDropdown);
  // FAST calls <attribute>Changed when the dropdown's aria-labelledby attribute changes.
  (BaseDropdown.prototype as unknown as Record<string, unknown>).ariaLabelledByChanged = nameDropdown;
  // A text field labelled from outside its shadow root: name its inner control the same way.
  const nameControl = (host: Host) =>
    requestAnimationFrame(() => {
      const control = host.control;
      if (!control || (control as HTMLInputElement).labels?.[0]?.textContent?.trim()) return;
      const name = host.getAttribute('aria-label');
      if (name) control.setAttribute('aria-label', name);
    });
  after(BaseTextInput, 'connectedCallback', function () { nameControl(this); });
  after(BaseTextArea, 'connectedCallback', function () { nameControl(this); });
}

mirrorAccessibility();
AnchorButton.define(AnchorButtonDefinition);
Badge.define(BadgeDefinition);
Button.define(ButtonDefinition);
Checkbox.define(CheckboxDefinition);
Dialog.define(DialogDefinition);
DialogBody.define(DialogBodyDefinition);
Dropdown.define(DropdownDefinition);
DropdownOption.define(DropdownOptionDefinition);
Field.define(FieldDefinition);
Link.define(LinkDefinition);
Listbox.define(ListboxDefinition);
Menu.define(MenuDefinition);
MenuButton.define(MenuButtonDefinition);
MenuItem.define(MenuItemDefinition);
MenuList.define(MenuListDefinition);
MessageBar.define(MessageBarDefinition);
Radio.define(RadioDefinition);
RadioGroup.define(RadioGroupDefinition);
Spinner.define(SpinnerDefinition);
Tab.define(TabDefinition);
Tablist.define(TablistDefinition);
TextArea.define(TextAreaDefinition);
TextInput.define(TextInputDefinition);

const dark = window.matchMedia('(prefers-color-scheme: dark)');
function applyTheme(): void {
  setTheme(dark.matches ? webDarkTheme : webLightTheme);
  document.documentElement.dataset.theme = dark.matches ? 'dark' : 'light';
}
applyTheme();
dark.addEventListener('change', applyTheme);
