// Vite's types for what the dashboard imports besides modules: the components' stylesheets.
/// <reference types="vite/client" />
