export * as filesystem from './filesystem.js';
