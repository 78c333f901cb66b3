//! A site: the routes a [`WebServer`](super::WebServer) serves.

use std::collections::HashMap;

use super::Route;

/// Paths (with their query string, if any, exactly as requested) mapped to routes.
#[derive(Debug, Clone, Default)]
pub struct Site {
    routes: HashMap<String, Route>,
}

impl Site {
    /// An empty site: every path is a `404`.
    pub fn new() -> Site {
        Site::default()
    }

    /// Adds an HTML page at `path` (shorthand for `route(path, Route::html(html))`).
    pub fn page(self, path: &str, html: impl Into<String>) -> Site {
        self.route(path, Route::html(html))
    }

    /// Adds (or replaces) the route at `path`.
    pub fn route(mut self, path: &str, route: Route) -> Site {
        self.routes.insert(path.to_owned(), route);
        self
    }

    /// Adds a `robots.txt` with this text.
    pub fn robots(self, text: &str) -> Site {
        self.route("/robots.txt", Route::ok("text/plain", text.as_bytes().to_vec()))
    }

    /// The route at `path`, if any.
    pub fn get(&self, path: &str) -> Option<&Route> {
        self.routes.get(path)
    }

    /// Every path of the site.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.routes.keys().map(String::as_str)
    }

    /// The routes, for the server to take over.
    pub(super) fn into_routes(self) -> HashMap<String, Route> {
        self.routes
    }
}
