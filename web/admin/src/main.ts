// The admin center's entry: Fluent's components and theme, then the app.
import './fluent.js';
import './app.js';
