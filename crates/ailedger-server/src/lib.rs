//! ailedger's HTTP API. [`router`] builds the axum router over an [`AppState`]: a
//! [`Store`] and the in-memory graph index, which a background task keeps current by
//! tailing the store (so several servers on one PostgreSQL database see each other's
//! writes) and which every write on this server updates before it answers.
//!
//! **Architecture invariant:** handlers never panic on input; every client error is an
//! [`ApiError`] rendered as RFC 9457 problem+json with a 4xx status.

pub mod auth;
mod build;
mod commit;
pub mod dto;
pub mod error;
pub mod log;
mod memo;
pub mod paths;
mod routes;
mod state;
mod verify;
pub mod webhooks;

use utoipa::OpenApi;

pub use dto::*;
pub use error::{ApiError, CORRUPT_PROBLEM, Problem};
pub(crate) use routes::ApiQuery;
pub use routes::{
    advisories::{
        ImportRequest, ImportView, KnownRecord, KnownRequest, KnownView, MAX_KNOWN, MAX_RECORDS,
        RecordResult,
    },
    documents::{IngestView, MAX_DOCUMENT},
    incidents::{
        BlockRequest, BlockView, BlocklistView, CompromiseRequest, EvidenceInput, ExposureView,
        Flag, IncidentView, IncidentsView, QuarantineView, QuarantinedView, ReleaseRequest,
        StepView, TransitionRequest,
    },
    router, table,
};
pub use state::{AppState, IngestBudget, Limits};

/// Largest request body accepted (a batch of tens of thousands of registrations).
pub const MAX_BODY: usize = 64 * 1024 * 1024;
/// Most entries returned by one `GET /v1/entries`.
pub const MAX_ENTRIES_PAGE: u32 = 1000;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ailedger",
        description = "A tamper-evident ledger of an AI supply chain: register artifacts and edges, ask for blast radius and dependencies, read the ledger."
    ),
    paths(
        routes::documents::ingest,
        routes::documents::document,
        routes::write::register,
        routes::write::batch,
        routes::write::link,
        routes::write::unlink,
        routes::write::deploy,
        routes::graph::artifact,
        routes::graph::resolve,
        routes::graph::impact,
        routes::graph::deps,
        routes::entries::entries,
        routes::entries::entry,
        routes::entries::status,
        routes::tokens::create,
        routes::tokens::list,
        routes::tokens::revoke,
        routes::tokens::whoami,
        routes::policy::put,
        routes::policy::get,
        routes::incidents::open,
        routes::incidents::list,
        routes::incidents::show,
        routes::incidents::ack,
        routes::incidents::resolve,
        routes::incidents::report,
        routes::incidents::block,
        routes::incidents::blocklist,
        routes::incidents::unblock,
        routes::advisories::import,
        routes::advisories::known,
        routes::incidents::quarantined,
        routes::incidents::release,
        routes::webhooks::create,
        routes::webhooks::list,
        routes::webhooks::remove,
        routes::webhooks::deliveries,
        routes::check::check,
        routes::export::spdx,
        routes::export::cyclonedx
    ),
    components(schemas(
        ArtifactInput,
        EdgeInput,
        RegisterRequest,
        LinkRequest,
        DeployRequest,
        BatchRequest,
        BatchItem,
        WriteResponse,
        WrittenEntry,
        ArtifactView,
        EdgeView,
        TraversalView,
        HitView,
        EntryView,
        EntriesView,
        ResolveView,
        StatusView,
        Problem,
        IngestView,
        TokenRequest,
        TokenCreated,
        TokenView,
        TokensView,
        WhoamiView,
        WebhookRequest,
        WebhookCreated,
        WebhookView,
        WebhooksView,
        DeliveryView,
        DeliveriesView
    ))
)]
struct ApiDoc;

/// The OpenAPI document of this API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(log::LogApi::openapi());
    doc
}

/// Compiles the schemas of the current document formats on a blocking thread, so the
/// first ingest of each does not wait for it (older versions compile on first use).
pub fn warm_up_parsers() -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_blocking(ailedger_formats::warm_up_schemas)
}
