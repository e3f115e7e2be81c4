//! The endpoint catalogue: every Toll path the client sends to and the
//! simulator serves, with a stable id, its method, its path template and where
//! the path comes from.
//!
//! Templates are paths from the host root with `{placeholder}`s, each a whole
//! path segment or a whole query value, and possibly a query string
//! (`?requestId={requestId}`). A query parameter whose placeholder has no
//! value is left out (the routing feed's first call has no `marker`, S8).
//! A contract profile's
//! `[endpoints]` table replaces a template by id (see
//! [`crate::ContractProfile::path`]).

use crate::rules::Source;

/// One endpoint of Toll's APIs as we read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointInfo {
    /// Stable id (`road.transport.create`, `presentation.validation-status`).
    pub id: &'static str,
    /// HTTP method (`GET`, `POST`, `PUT`, `DELETE`).
    pub method: &'static str,
    /// The default path template.
    pub template: &'static str,
    /// Where the path comes from (at least one entry).
    pub sources: &'static [Source],
}

impl EndpointInfo {
    /// The placeholders the endpoint needs (from its default template), in
    /// template order. An override must use exactly these.
    pub fn placeholders(&self) -> Vec<&'static str> {
        placeholders_of(self.template)
    }
}

/// The `{name}`s of a template, in order (well-formed templates only).
pub(crate) fn placeholders_of(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push(&rest[start + 1..start + len]);
        rest = &rest[start + len + 1..];
    }
    out
}

/// Every placeholder any endpoint uses.
pub const PLACEHOLDERS: &[&str] = &[
    "mrn",
    "requestId",
    "receptacleId",
    "declarationId",
    "documentNumber",
    "type",
    "carrierId",
    "marker",
];

/// Every endpoint, in a stable order.
pub fn endpoints() -> &'static [EndpointInfo] {
    ENDPOINTS
}

/// The endpoint with this id.
pub fn endpoint(id: &str) -> Option<&'static EndpointInfo> {
    ENDPOINTS.iter().find(|e| e.id == id)
}

const S1: Source = Source::Documented("api/mo/prosedyre-mo-vei-ferge-EN.html");
const S17: Source =
    Source::Documented("api/mo/prosedyre-mo-fly-EN.html, -tog-EN.html, -sjo-EN.html");
const S2: Source = Source::Documented("api/mo/hvordan-sende-inn-meldinger-EN.html");
const S4: Source = Source::Documented("api/mo/kobling-oppdatering-og-sletting-EN.html");
const S5: Source = Source::Documented("api/mo/beskrivelse-av-sporre-api-EN.html");
const S7: Source = Source::Documented("api/mo/beskrivelse-av-ankomst-api-EN.html");
const S8: Source = Source::Documented("api/mo/fremlegging-og-kontrolldirigering-EN.html");
const S10: Source = Source::Documented("api/mo/asynkrone-valideringsfeil-EN.html");
const S19: Source = Source::Documented("api/ics2/ics2-forsendelser-EN.html");
const S20: Source = Source::Documented("api/document/document-api-EN.html");
const S21: Source = Source::Documented("api/maskinporten/teknisk-integrasjon-EN.html");
const SYSTEMA_API: Source = Source::SeenInCode {
    repo: "SystemaAS/syjservicestn-expft",
    path: "src/no/systema/jservices/tvinn/expressfortolling/api/ApiServices.java",
};
const SYSTEMA_AIR: Source = Source::SeenInCode {
    repo: "SystemaAS/syjservicestn-expft",
    path: "src/no/systema/jservices/tvinn/expressfortolling/api/ApiServicesAir.java",
};
const SYSTEMA_UPLOAD: Source = Source::SeenInCode {
    repo: "SystemaAS/syjservicestn-expft",
    path: "src/no/systema/jservices/tvinn/expressfortolling/api/ApiUploadClient.java",
};
const RELATION_GUESS: Source = Source::Inferred(
    "Toll says the relation endpoints are \"under Relation\" in the road Swagger \
     (api/mo/beskrivelse-av-koblings-api-EN.html) without a path; named after the other collections",
);
const LOOKUP_QUERY: Source = Source::Inferred(
    "the lookup by documentNumber, type and carrierId is documented (S5) but not its parameter form; \
     query parameters named after the fields",
);
const ARRIVAL_PATHS: Source = Source::Inferred(
    "api/mo/beskrivelse-av-ankomst-api-EN.html describes POST arrival and GET validation status \
     without paths; named after the movement APIs",
);

/// The per-mode endpoints: submission base `$s`, query base `$q`.
macro_rules! mode_endpoints {
    ($m:literal, $s:literal, $q:literal, $doc:expr) => {
        [
            EndpointInfo { id: concat!($m, ".test-auth"), method: "GET", template: concat!($s, "/test-auth"), sources: &[S21, $doc] },
            EndpointInfo { id: concat!($m, ".transport.create"), method: "POST", template: concat!($s, "/transport"), sources: &[$doc] },
            EndpointInfo { id: concat!($m, ".transport.update"), method: "PUT", template: concat!($s, "/transport/{mrn}"), sources: &[S4, $doc] },
            EndpointInfo { id: concat!($m, ".transport.delete"), method: "DELETE", template: concat!($s, "/transport/{mrn}"), sources: &[S4, $doc] },
            EndpointInfo { id: concat!($m, ".master.create"), method: "POST", template: concat!($s, "/master-consignment"), sources: &[$doc] },
            EndpointInfo { id: concat!($m, ".master.update"), method: "PUT", template: concat!($s, "/master-consignment/{mrn}"), sources: &[S4, $doc] },
            EndpointInfo { id: concat!($m, ".master.delete"), method: "DELETE", template: concat!($s, "/master-consignment/{mrn}"), sources: &[S4, $doc] },
            EndpointInfo { id: concat!($m, ".house.create"), method: "POST", template: concat!($s, "/house-consignment"), sources: &[$doc] },
            EndpointInfo { id: concat!($m, ".house.update"), method: "PUT", template: concat!($s, "/house-consignment/{mrn}"), sources: &[S4, $doc] },
            EndpointInfo { id: concat!($m, ".house.delete"), method: "DELETE", template: concat!($s, "/house-consignment/{mrn}"), sources: &[S4, $doc] },
            EndpointInfo { id: concat!($m, ".relation.create"), method: "POST", template: concat!($s, "/relation"), sources: &[RELATION_GUESS] },
            EndpointInfo { id: concat!($m, ".relation.delete"), method: "DELETE", template: concat!($s, "/relation/{mrn}"), sources: &[RELATION_GUESS] },
            EndpointInfo { id: concat!($m, ".transport.validation-status"), method: "GET", template: concat!($q, "/transport/validation-status/{requestId}"), sources: &[S2, S10, SYSTEMA_API] },
            EndpointInfo { id: concat!($m, ".master.validation-status"), method: "GET", template: concat!($q, "/master-consignment/validation-status/{requestId}"), sources: &[S2, S10, SYSTEMA_API] },
            EndpointInfo { id: concat!($m, ".house.validation-status"), method: "GET", template: concat!($q, "/house-consignment/validation-status/{requestId}"), sources: &[S2, S10, SYSTEMA_API] },
            EndpointInfo { id: concat!($m, ".relation.validation-status"), method: "GET", template: concat!($q, "/relation/validation-status/{requestId}"), sources: &[RELATION_GUESS] },
            EndpointInfo { id: concat!($m, ".transport.status-with-descendants"), method: "GET", template: concat!($q, "/transport/{mrn}/status-with-descendants"), sources: &[S5, SYSTEMA_API] },
            EndpointInfo { id: concat!($m, ".transport.master-documents"), method: "GET", template: concat!($q, "/transport/{mrn}/master-consignment/transport-document/status"), sources: &[S5, SYSTEMA_API] },
            EndpointInfo { id: concat!($m, ".transport.house-documents"), method: "GET", template: concat!($q, "/transport/{mrn}/house-consignment/transport-document/status"), sources: &[S5] },
            EndpointInfo { id: concat!($m, ".master.status-with-descendants"), method: "GET", template: concat!($q, "/master-consignment/{mrn}/status-with-descendants"), sources: &[S5] },
            EndpointInfo { id: concat!($m, ".master.house-documents"), method: "GET", template: concat!($q, "/master-consignment/{mrn}/transport-document/status"), sources: &[S5] },
            EndpointInfo { id: concat!($m, ".master.lookup"), method: "GET", template: concat!($q, "/master-consignment/transport-document/status?documentNumber={documentNumber}&type={type}&carrierId={carrierId}"), sources: &[S5, LOOKUP_QUERY] },
            EndpointInfo { id: concat!($m, ".house.status"), method: "GET", template: concat!($q, "/house-consignment/{mrn}/transport-document/status"), sources: &[S5] },
            EndpointInfo { id: concat!($m, ".house.lookup"), method: "GET", template: concat!($q, "/house-consignment/transport-document/status?documentNumber={documentNumber}&type={type}&carrierId={carrierId}"), sources: &[S5, LOOKUP_QUERY] },
            EndpointInfo { id: concat!($m, ".house.postal-receptacle"), method: "GET", template: concat!($q, "/house-consignment/postal-receptacle/{receptacleId}/transport-document/status"), sources: &[S5] },
            EndpointInfo { id: concat!($m, ".entry-status"), method: "GET", template: concat!($q, "/entry/status/{mrn}"), sources: &[S5, S7, Source::SeenInCode { repo: "SystemaAS/syjservicestn-expft", path: "src/no/systema/jservices/tvinn/digitoll/entry/road/EntryMovRoadDto.java" }] },
        ]
    };
}

const ROAD: [EndpointInfo; 26] = mode_endpoints!(
    "road",
    "/api/movement/road/v2",
    "/api/movement/road/status/v2",
    S1
);
const AIR: [EndpointInfo; 26] = mode_endpoints!(
    "air",
    "/api/movement/air/v1",
    "/api/movement/air/status/v1",
    S17
);
const RAIL: [EndpointInfo; 26] = mode_endpoints!(
    "rail",
    "/api/movement/rail/v1",
    "/api/movement/rail/status/v1",
    S17
);
const MARITIME: [EndpointInfo; 26] = mode_endpoints!(
    "maritime",
    "/api/movement/maritime/v1",
    "/api/movement/maritime/status/v1",
    S17
);

const OTHERS: [EndpointInfo; 14] = [
    EndpointInfo {
        id: "token-exchange",
        method: "POST",
        template: "/api/access/external/oauth/token",
        sources: &[S21],
    },
    EndpointInfo {
        id: "presentation.house-consignment",
        method: "POST",
        template: "/api/movement/presentation/v1/house-consignment",
        sources: &[S19, S8],
    },
    EndpointInfo {
        id: "presentation.master-consignment",
        method: "POST",
        template: "/api/movement/presentation/v1/master-consignment",
        sources: &[S19],
    },
    EndpointInfo {
        id: "presentation.container",
        method: "POST",
        template: "/api/movement/presentation/v1/container",
        sources: &[S19],
    },
    EndpointInfo {
        id: "presentation.receptacle",
        method: "POST",
        template: "/api/movement/presentation/v1/receptacle",
        sources: &[S19],
    },
    EndpointInfo {
        id: "presentation.entry-summary-declaration",
        method: "POST",
        template: "/api/movement/presentation/v1/entry-summary-declaration",
        sources: &[S19],
    },
    // Toll writes `GET …/presentation/v1/validation-status` without a
    // `{requestId}` segment in every revision of S19, while the same page
    // explains `{requestId}`: the id has to travel outside the path, and a
    // query parameter named like the placeholder is what a Spring controller
    // takes [I]. The client sends this form.
    EndpointInfo {
        id: "presentation.validation-status",
        method: "GET",
        template: "/api/movement/presentation/v1/validation-status?requestId={requestId}",
        sources: &[
            S19,
            Source::Inferred("the page names {requestId} but writes no segment: a query parameter"),
        ],
    },
    // Our earlier reading, kept so the simulator answers clients that send
    // it: the movement APIs' `…/validation-status/{requestId}` form [I].
    EndpointInfo {
        id: "presentation.validation-status.by-path",
        method: "GET",
        template: "/api/movement/presentation/v1/validation-status/{requestId}",
        sources: &[Source::Inferred(
            "the movement APIs' form; accepted by the simulator, not sent by the client",
        )],
    },
    EndpointInfo {
        id: "routing.house-consignment",
        method: "GET",
        template: "/api/movement/routing/v1/house-consignment?marker={marker}",
        sources: &[S8, S19, SYSTEMA_AIR],
    },
    EndpointInfo {
        id: "routing.transport",
        method: "GET",
        template: "/api/movement/routing/v1/transport?marker={marker}",
        sources: &[SYSTEMA_AIR],
    },
    EndpointInfo {
        id: "arrival.create",
        method: "POST",
        template: "/api/movement/arrival/v1/arrival",
        sources: &[S7, ARRIVAL_PATHS],
    },
    EndpointInfo {
        id: "arrival.validation-status",
        method: "GET",
        template: "/api/movement/arrival/v1/validation-status/{requestId}",
        sources: &[S7, ARRIVAL_PATHS],
    },
    // "designed for all modes"; entry status documented on the arrival
    // Swagger (S7). The client sends this one for every mode.
    EndpointInfo {
        id: "arrival.entry-status",
        method: "GET",
        template: "/api/movement/arrival/v1/entry/status/{mrn}",
        sources: &[S7],
    },
    EndpointInfo {
        id: "document.upload",
        method: "POST",
        template: "/api/goodsdeclaration/document/v2/declaration-id/{declarationId}/document",
        sources: &[S20, SYSTEMA_UPLOAD],
    },
];

const fn concat_all() -> [EndpointInfo; 26 * 4 + 14] {
    let placeholder = OTHERS[0];
    let mut out = [placeholder; 26 * 4 + 14];
    let groups: [&[EndpointInfo]; 5] = [&ROAD, &AIR, &RAIL, &MARITIME, &OTHERS];
    let mut n = 0;
    let mut g = 0;
    while g < groups.len() {
        let mut i = 0;
        while i < groups[g].len() {
            out[n] = groups[g][i];
            n += 1;
            i += 1;
        }
        g += 1;
    }
    out
}

static ENDPOINTS: &[EndpointInfo] = &concat_all();
