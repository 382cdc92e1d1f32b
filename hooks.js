// One-line re-export for promptfoo `extensions:` (which does not take package: references).
export { afterEach, afterAll } from './dist/promptfoo/hooks.js';
