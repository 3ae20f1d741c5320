//! A router that keeps the table of the routes it was given, so the OpenAPI document can be
//! checked against what is really routed (tests/it/openapi.rs) rather than a second list.

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{any, get, post};
use axum::Router;

/// One route: its method (`get`, `post`, or `any`) and its path as axum matches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// `get`, `post` or `any`.
    pub method: &'static str,
    /// The path template (`/api/v0/messages/{item_hash}`).
    pub path: &'static str,
}

/// A router under construction, with the routes added so far.
#[derive(Debug)]
pub(crate) struct Routed<S = ()> {
    /// The router.
    pub router: Router<S>,
    /// Its routes, in the order they were added.
    pub routes: Vec<Route>,
}

impl<S: Clone + Send + Sync + 'static> Default for Routed<S> {
    fn default() -> Self {
        Routed { router: Router::new(), routes: Vec::new() }
    }
}

impl<S: Clone + Send + Sync + 'static> Routed<S> {
    /// No route yet.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        route: axum::routing::MethodRouter<S>,
    ) -> Self {
        self.routes.push(Route { method, path });
        self.router = self.router.route(path, route);
        self
    }

    /// `GET path`.
    pub(crate) fn get<H: Handler<T, S>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add("get", path, get(handler))
    }

    /// `POST path`.
    pub(crate) fn post<H: Handler<T, S>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add("post", path, post(handler))
    }

    /// `POST path` with its own body limit.
    pub(crate) fn post_limited<H: Handler<T, S>, T: 'static>(
        self,
        path: &'static str,
        handler: H,
        limit: DefaultBodyLimit,
    ) -> Self {
        self.add("post", path, post(handler).layer(limit))
    }

    /// Any method on `path`.
    pub(crate) fn any<H: Handler<T, S>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add("any", path, any(handler))
    }

    /// The same routes with the router transformed (layers, state).
    pub(crate) fn map<S2>(self, f: impl FnOnce(Router<S>) -> Router<S2>) -> Routed<S2> {
        Routed { router: f(self.router), routes: self.routes }
    }
}
