//! Norwegian (bokmål) and English texts of the dashboard: one key → text
//! table, so a missing translation is a test failure, not a blank label.

/// The dashboard's languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Norsk bokmål (the default: the users are Norwegian carriers).
    #[default]
    Nb,
    /// English (foreign hauliers).
    En,
}

impl Lang {
    /// The `lang` attribute and cookie value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nb => "nb",
            Lang::En => "en",
        }
    }

    /// Parses a cookie or path value; anything unknown is `None`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "nb" | "no" => Some(Lang::Nb),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The text for `key`; the key itself if it has no entry (tested never to happen).
    pub fn t(self, key: &str) -> &'static str {
        match TEXTS.iter().find(|(k, _, _)| *k == key) {
            Some((_, en, nb)) => match self {
                Lang::En => en,
                Lang::Nb => nb,
            },
            None => "?",
        }
    }

    /// Whether `key` has texts.
    pub fn has(key: &str) -> bool {
        TEXTS.iter().any(|(k, _, _)| *k == key)
    }
}

/// (key, English, Norwegian).
pub(crate) const TEXTS: &[(&str, &str, &str)] = &[
    ("app.title", "digitoll", "digitoll"),
    ("nav.transports", "Transports", "Transporter"),
    ("nav.new", "New transport", "Ny transport"),
    ("nav.problems", "Problems", "Problemer"),
    ("nav.tenants", "Tenants", "Kunder"),
    ("nav.system", "System", "System"),
    ("nav.signout", "Sign out", "Logg ut"),
    ("nav.skip", "Skip to content", "Hopp til innhold"),
    ("nav.menu", "Main menu", "Hovedmeny"),
    ("nav.lang", "Norsk", "English"),
    (
        "who.admin",
        "Operator (all tenants)",
        "Operatør (alle kunder)",
    ),
    ("login.title", "Sign in", "Logg inn"),
    (
        "login.intro",
        "Sign in with a tenant API key (you see your own organisation's data) or an admin key (all tenants).",
        "Logg inn med en API-nøkkel for din virksomhet (du ser bare egne data) eller en admin-nøkkel (alle kunder).",
    ),
    ("login.key", "API key", "API-nøkkel"),
    ("login.submit", "Sign in", "Logg inn"),
    (
        "login.failed",
        "That key was not accepted (unknown, revoked, or the tenant is disabled).",
        "Nøkkelen ble ikke godtatt (ukjent, tilbakekalt, eller kunden er deaktivert).",
    ),
    (
        "login.expired",
        "Your session has ended. Please sign in again.",
        "Økten er utløpt. Logg inn på nytt.",
    ),
    ("f.state", "State", "Status"),
    ("f.date", "Arrival date", "Ankomstdato"),
    ("f.plate", "Licence plate", "Registreringsnummer"),
    ("f.office", "Customs office", "Tollsted"),
    ("f.tenant", "Tenant", "Kunde"),
    ("f.any", "Any", "Alle"),
    ("f.filter", "Filter", "Filtrer"),
    ("f.clear", "Clear", "Nullstill"),
    ("col.plate", "Plate", "Reg.nr."),
    ("col.arrival", "Arrival (Norway)", "Ankomst (norsk tid)"),
    ("col.office", "Office", "Tollsted"),
    ("col.state", "State", "Status"),
    ("col.mrn", "MRN", "MRN"),
    ("col.routing", "Routing", "Ruting"),
    ("col.tenant", "Tenant", "Kunde"),
    ("col.created", "Created", "Opprettet"),
    ("col.kind", "Kind", "Type"),
    ("col.document", "Document", "Dokument"),
    ("col.type", "Type", "Type"),
    ("col.when", "When", "Når"),
    ("col.detail", "Detail", "Detaljer"),
    ("col.attempt", "Attempt", "Forsøk"),
    ("col.outcome", "Outcome", "Utfall"),
    ("col.http", "HTTP", "HTTP"),
    ("col.error", "Error", "Feil"),
    ("col.job", "Job", "Jobb"),
    ("col.actions", "Actions", "Handlinger"),
    ("col.received", "At Toll", "Hos Tollen"),
    (
        "col.reasons",
        "Incomplete documentation",
        "Mangelfull dokumentasjon",
    ),
    ("col.event", "Event", "Hendelse"),
    ("col.url", "Receiver", "Mottaker"),
    ("col.status", "Status", "Status"),
    ("col.check", "Check", "Sjekk"),
    ("col.fix", "How to fix", "Slik retter du"),
    ("col.label", "Label", "Etikett"),
    ("col.prefix", "Key starts with", "Nøkkelen starter med"),
    ("col.revoked", "Revoked", "Tilbakekalt"),
    ("col.scopes", "Scopes", "Scopes"),
    ("col.key", "Key", "Nøkkel"),
    ("col.health", "Health", "Helse"),
    ("col.env", "Environment", "Miljø"),
    ("col.org", "Org. no.", "Org.nr."),
    ("col.name", "Name", "Navn"),
    ("col.enabled", "Enabled", "Aktiv"),
    ("transports.title", "Transports", "Transporter"),
    (
        "transports.none",
        "No transports match.",
        "Ingen transporter passer.",
    ),
    ("transport.title", "Transport", "Transport"),
    (
        "transport.estimated",
        "Estimated arrival (Norway)",
        "Forventet ankomst (norsk tid)",
    ),
    (
        "transport.tree",
        "Masters and houses",
        "Sendinger (master og hus)",
    ),
    ("transport.live", "Updated live", "Oppdateres fortløpende"),
    ("transport.routing", "Routing signal", "Rutingssignal"),
    ("transport.entry", "Entry status", "Innpassering"),
    (
        "transport.noroute",
        "No routing signal yet",
        "Ingen rutingssignal ennå",
    ),
    (
        "transport.noentry",
        "No entry registered yet",
        "Ingen innpassering registrert ennå",
    ),
    (
        "transport.entry_ok",
        "Entry granted: goods may be unloaded",
        "Innpassering godkjent: varene kan losses",
    ),
    (
        "transport.entry_no",
        "Entry not granted: contact Toll",
        "Innpassering ikke godkjent: kontakt Tolletaten",
    ),
    (
        "transport.missing",
        "Not received by Toll",
        "Ikke mottatt av Tollen",
    ),
    ("transport.received", "Received", "Mottatt"),
    (
        "transport.notree",
        "Toll's tree is shown once the transport has an MRN.",
        "Tollens oversikt vises når transporten har MRN.",
    ),
    (
        "transport.tree_error",
        "Toll's tree could not be read now",
        "Tollens oversikt kunne ikke leses nå",
    ),
    ("transport.local", "Sent by you", "Sendt av dere"),
    (
        "transport.notlocal",
        "Sent by someone else",
        "Sendt av andre",
    ),
    (
        "transport.norefs",
        "No masters or houses on this transport.",
        "Ingen sendinger på denne transporten.",
    ),
    (
        "transport.eta",
        "Update estimated arrival",
        "Oppdater forventet ankomst",
    ),
    (
        "transport.eta_help",
        "Norwegian time. Sent to Toll as an update of the transport.",
        "Norsk tid. Sendes til Tollen som en endring av transporten.",
    ),
    (
        "transport.eta_submit",
        "Send new arrival time",
        "Send ny ankomsttid",
    ),
    (
        "transport.eta_needs_mrn",
        "The arrival time can be changed once Toll has accepted the transport.",
        "Ankomsttiden kan endres når Tollen har godtatt transporten.",
    ),
    (
        "transport.changes",
        "Changes and cancellations",
        "Endringer og slettinger",
    ),
    (
        "routing.TO_ENTRY",
        "To entry: drive on, no control",
        "Til innpassering: kjør videre, ingen kontroll",
    ),
    (
        "routing.TO_CONTROL",
        "To control: report for inspection",
        "Til kontroll: møt til kontroll",
    ),
    (
        "routing.ENTRY_PENDING",
        "Entry pending",
        "Innpassering avventer",
    ),
    (
        "routing.ENTRY_DENIED",
        "Entry denied",
        "Innpassering avslått",
    ),
    ("routing.ON_ENTRY", "at the border", "ved grensen"),
    ("routing.AFTER_ENTRY", "after entry", "etter innpassering"),
    ("message.title", "Message", "Melding"),
    ("message.body", "The message", "Meldingen"),
    ("message.history", "State history", "Statushistorikk"),
    ("message.attempts", "Send attempts", "Sendeforsøk"),
    ("message.errors", "Toll's remarks", "Tollens merknader"),
    (
        "message.local",
        "Our own checks (warnings)",
        "Våre egne kontroller (advarsler)",
    ),
    (
        "message.local_help",
        "Findings of the gateway's local rules, kept next to Toll's answer. Toll's answer decides.",
        "Funn fra gatewayens lokale regler, lagret ved siden av Tollens svar. Tollens svar avgjør.",
    ),
    ("message.rule", "Rule", "Regel"),
    ("message.severity", "Severity", "Alvorlighet"),
    (
        "message.local_said",
        "Our rule {rule} said: {text}. Toll answered: {toll}.",
        "Vår regel {rule} sa: {text}. Tollen svarte: {toll}.",
    ),
    ("message.toll_pending", "nothing yet", "ingenting ennå"),
    (
        "message.toll_accepted",
        "accepted, MRN {mrn}",
        "godkjent, MRN {mrn}",
    ),
    (
        "message.toll_same_field",
        "rejected, at the same field: {text}",
        "avvist, i samme felt: {text}",
    ),
    (
        "message.toll_other_field",
        "rejected, but not at this field",
        "avvist, men ikke i dette feltet",
    ),
    ("message.toll_state", "state {state}", "status {state}"),
    (
        "message.raw",
        "Requests and responses",
        "Forespørsler og svar",
    ),
    (
        "message.raw_help",
        "Authorization headers and tokens are never stored or shown.",
        "Autorisasjonshoder og tokens lagres og vises aldri.",
    ),
    ("message.request", "Request", "Forespørsel"),
    ("message.response", "Response", "Svar"),
    ("message.update", "Update (PUT)", "Endre (PUT)"),
    (
        "message.update_help",
        "The full replacement message as JSON; sent to Toll by its MRN.",
        "Hele den nye meldingen som JSON; sendes til Tollen med MRN.",
    ),
    (
        "message.delete",
        "Cancel at Toll (DELETE)",
        "Slett hos Tollen (DELETE)",
    ),
    (
        "message.delete_help",
        "Cancels the declaration at Toll by its MRN.",
        "Sletter deklarasjonen hos Tollen med MRN.",
    ),
    (
        "message.delete_confirm",
        "I want to cancel this declaration at Toll",
        "Jeg vil slette denne deklarasjonen hos Tollen",
    ),
    (
        "message.needs_mrn",
        "Update and delete are possible once Toll has given an MRN.",
        "Endring og sletting er mulig når Tollen har gitt MRN.",
    ),
    (
        "message.queued",
        "Queued for sending to Toll.",
        "Lagt i kø for sending til Tollen.",
    ),
    ("message.field", "Field", "Felt"),
    ("message.explanation", "What it means", "Hva det betyr"),
    ("message.toll_text", "Toll's text", "Tollens tekst"),
    (
        "message.needs_attention",
        "Needs attention: Toll may or may not have this message. Check at Toll, then retry or cancel the job.",
        "Krever oppfølging: Tollen har kanskje mottatt meldingen. Sjekk hos Tollen, og send på nytt eller avbryt jobben.",
    ),
    ("problems.title", "Problems", "Problemer"),
    (
        "problems.rejected",
        "Rejected messages",
        "Avviste meldinger",
    ),
    (
        "problems.dead",
        "Stopped jobs (dead letters)",
        "Stoppede jobber",
    ),
    (
        "problems.webhooks",
        "Failed webhook deliveries",
        "Mislykkede webhook-leveranser",
    ),
    ("problems.none", "Nothing here.", "Ingenting her."),
    ("problems.retry", "Retry", "Prøv igjen"),
    ("problems.cancel", "Cancel", "Avbryt"),
    ("problems.done", "Done.", "Utført."),
    ("tenants.title", "Tenants", "Kunder"),
    ("tenant.title", "Tenant", "Kunde"),
    ("tenant.health", "Health checks", "Helsesjekk"),
    ("tenant.run", "Run checks now", "Kjør sjekk nå"),
    ("tenant.never", "Not checked yet", "Ikke sjekket ennå"),
    ("tenant.checked", "Checked", "Sjekket"),
    (
        "tenant.last_token",
        "Last successful token",
        "Siste vellykkede token",
    ),
    (
        "tenant.key_expiry",
        "Key or certificate expires",
        "Nøkkel eller sertifikat utløper",
    ),
    ("tenant.rotate", "Rotate key", "Bytt nøkkel"),
    ("tenant.validation", "Local validation", "Lokal validering"),
    (
        "tenant.validation_help",
        "strict: our rules refuse a message before it is stored. advisory: our findings are kept as warnings and the message is sent; Toll decides. off: no rule checks.",
        "strict: reglene våre avviser en melding før den lagres. advisory: funnene våre lagres som advarsler og meldingen sendes; Tollen avgjør. off: ingen regelkontroll.",
    ),
    ("tenant.validation_mode", "Mode", "Modus"),
    (
        "tenant.profile",
        "Contract profile (TOML)",
        "Kontraktsprofil (TOML)",
    ),
    (
        "tenant.profile_help",
        "[rules] with rule id = \"error\", \"warning\" or \"off\"; overrides the instance's profile rule by rule. Empty: the instance's profile alone.",
        "[rules] med regel-id = \"error\", \"warning\" eller \"off\"; overstyrer instansens profil regel for regel. Tom: bare instansens profil.",
    ),
    ("tenant.save_validation", "Save", "Lagre"),
    (
        "tenant.rotate_help",
        "Generates a new key pair. Upload the public key below to the Maskinporten client; the old key stops working for this gateway at once.",
        "Lager et nytt nøkkelpar. Last opp den offentlige nøkkelen under til Maskinporten-klienten; den gamle slutter å virke her med en gang.",
    ),
    (
        "tenant.rotated",
        "New public key (upload it to Maskinporten)",
        "Ny offentlig nøkkel (last den opp i Maskinporten)",
    ),
    ("tenant.keys", "API keys", "API-nøkler"),
    ("tenant.new_key", "Create API key", "Lag API-nøkkel"),
    (
        "tenant.new_key_shown",
        "The new key, shown only this once:",
        "Den nye nøkkelen, vises bare denne ene gangen:",
    ),
    ("tenant.revoke", "Revoke", "Tilbakekall"),
    ("system.title", "System", "System"),
    ("system.queue", "Queue depth", "Kødybde"),
    (
        "system.age",
        "Oldest waiting job (s)",
        "Eldste ventende jobb (s)",
    ),
    (
        "system.throughput",
        "Send attempts per second",
        "Sendeforsøk per sekund",
    ),
    (
        "system.errors",
        "Error rate of send attempts (%)",
        "Feilrate for sendeforsøk (%)",
    ),
    ("system.toll", "Toll latency (ms)", "Responstid Tollen (ms)"),
    (
        "system.mp",
        "Maskinporten token latency (ms)",
        "Responstid Maskinporten-token (ms)",
    ),
    (
        "system.help",
        "The same figures as /metrics, sampled while this page is open.",
        "Samme tall som /metrics, målt mens siden er åpen.",
    ),
    ("system.now", "Now", "Nå"),
    ("system.nodata", "no data yet", "ingen data ennå"),
    ("form.title", "New road transport", "Ny veitransport"),
    (
        "form.intro",
        "For carriers without their own system. Everything is checked against Toll's rules as you type.",
        "For transportører uten eget system. Alt sjekkes mot Tollens regler mens du fyller ut.",
    ),
    ("form.vehicle", "Vehicle and driver", "Kjøretøy og sjåfør"),
    ("form.plate", "Licence plate", "Registreringsnummer"),
    (
        "form.nationality",
        "Nationality of the vehicle",
        "Kjøretøyets nasjonalitet",
    ),
    ("form.means", "Kind of vehicle", "Type kjøretøy"),
    ("form.driver", "Driver's name", "Sjåførens navn"),
    ("form.phone", "Driver's phone", "Sjåførens telefon"),
    ("form.carrier", "Carrier", "Transportør"),
    ("form.carrier_name", "Company name", "Firmanavn"),
    (
        "form.carrier_id",
        "Organisation number or EORI",
        "Organisasjonsnummer eller EORI",
    ),
    ("form.street", "Street address", "Gateadresse"),
    ("form.postcode", "Postcode", "Postnummer"),
    ("form.city", "City", "Sted"),
    ("form.country", "Country", "Land"),
    ("form.email", "E-mail", "E-post"),
    ("form.crossing", "Border crossing", "Grensepassering"),
    (
        "form.office",
        "Customs office of first entry",
        "Første tollsted",
    ),
    ("form.choose", "Choose…", "Velg…"),
    (
        "form.scheduled",
        "Scheduled arrival (Norwegian time)",
        "Planlagt ankomst (norsk tid)",
    ),
    ("form.consignments", "Masters and houses", "Sendinger"),
    (
        "form.consignments_help",
        "Add the waybills on the vehicle: your own, or ones others (a forwarder, the sender) have declared, by document number.",
        "Legg til fraktbrevene på bilen: egne, eller de andre (speditør, avsender) har deklarert, med dokumentnummer.",
    ),
    ("form.level", "Level", "Nivå"),
    ("form.master", "Master (waybill)", "Master (fraktbrev)"),
    ("form.house", "House (direct)", "Hus (direkte)"),
    ("form.docnum", "Document number", "Dokumentnummer"),
    ("form.doctype", "Document type", "Dokumenttype"),
    ("form.add", "Add a row", "Legg til rad"),
    ("form.remove", "Remove", "Fjern"),
    ("form.submit", "Send to Toll", "Send til Tollen"),
    ("form.check", "Check", "Sjekk"),
    ("form.ok", "No errors found.", "Ingen feil funnet."),
    (
        "form.has_errors",
        "Please correct the fields marked below.",
        "Rett opp feltene som er merket under.",
    ),
    ("form.other_errors", "Other remarks", "Andre merknader"),
    ("form.row", "Row", "Rad"),
    ("form.for_tenant", "Send for tenant", "Send for kunde"),
    ("form.required", "required", "må fylles ut"),
    ("err.title", "Something went wrong", "Noe gikk galt"),
    ("err.not_found", "Not found", "Ikke funnet"),
    ("err.back", "Back to transports", "Tilbake til transporter"),
    ("state.received", "Received", "Mottatt"),
    ("state.queued", "Queued", "I kø"),
    ("state.sending", "Sending", "Sendes"),
    (
        "state.submitted",
        "Submitted, awaiting Toll",
        "Sendt, venter på Tollen",
    ),
    ("state.accepted", "Accepted", "Godtatt"),
    ("state.incomplete", "Incomplete", "Mangelfull"),
    ("state.rejected", "Rejected", "Avvist"),
    ("state.failed", "Failed", "Feilet"),
    ("state.dead", "Stopped", "Stoppet"),
    (
        "x.not_null",
        "This field is required.",
        "Feltet må fylles ut.",
    ),
    (
        "x.instant",
        "Not a valid date and time.",
        "Ikke gyldig dato og tid.",
    ),
    ("x.size", "Wrong length", "Feil lengde"),
    (
        "x.country",
        "Not a country code Toll knows (two letters, e.g. NO, SE).",
        "Ikke en landkode Tollen kjenner (to bokstaver, f.eks. NO, SE).",
    ),
    (
        "x.office",
        "Not a customs office in Toll's list (CL141). Choose one from the list.",
        "Ikke et tollsted i Tollens liste (CL141). Velg fra listen.",
    ),
    (
        "x.estimated",
        "On the first submission the estimated arrival must equal the scheduled one.",
        "Ved første innsending må forventet ankomst være lik planlagt ankomst.",
    ),
    (
        "x.code",
        "Not one of the codes Toll allows here.",
        "Ikke en av kodene Tollen tillater her.",
    ),
    (
        "x.one_of",
        "Fill in at least one of these.",
        "Fyll inn minst én av disse.",
    ),
    (
        "x.pattern",
        "The format is not what Toll expects.",
        "Formatet er ikke det Tollen forventer.",
    ),
    (
        "x.other",
        "Toll would refuse this value.",
        "Tollen ville avvist denne verdien.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_both_languages_are_filled() {
        let mut seen = std::collections::HashSet::new();
        for (k, en, nb) in TEXTS {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!en.is_empty() && !nb.is_empty(), "empty text for {k}");
        }
        assert_eq!(Lang::En.t("nav.transports"), "Transports");
        assert_eq!(Lang::Nb.t("nav.transports"), "Transporter");
        assert_eq!(Lang::Nb.t("no.such.key"), "?");
    }

    #[test]
    fn every_key_used_in_templates_and_code_has_texts() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut sources = Vec::new();
        for entry in std::fs::read_dir(dir).expect("templates dir") {
            let path = entry.expect("entry").path();
            sources.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).expect("template"),
            ));
        }
        let web = concat!(env!("CARGO_MANIFEST_DIR"), "/src/web");
        for entry in std::fs::read_dir(web).expect("web dir") {
            let path = entry.expect("entry").path();
            if path.ends_with("i18n.rs") {
                continue;
            }
            sources.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).expect("source"),
            ));
        }
        // Keys built at run time: every message state and routing code.
        for s in [
            "received",
            "queued",
            "sending",
            "submitted",
            "accepted",
            "incomplete",
            "rejected",
            "failed",
            "dead",
        ] {
            assert!(s.parse::<digitoll_store::MessageState>().is_ok(), "{s}");
            assert!(Lang::has(&format!("state.{s}")), "state.{s}");
        }
        for r in [
            "TO_ENTRY",
            "TO_CONTROL",
            "ENTRY_PENDING",
            "ENTRY_DENIED",
            "ON_ENTRY",
            "AFTER_ENTRY",
        ] {
            assert!(Lang::has(&format!("routing.{r}")), "routing.{r}");
        }
        let mut missing = Vec::new();
        for (file, text) in &sources {
            for part in text.split("t(\"").skip(1) {
                if let Some(key) = part.split('"').next()
                    && key.contains('.')
                    && !key.contains(' ')
                    && !Lang::has(key)
                {
                    missing.push(format!("{file}: {key}"));
                }
            }
        }
        assert!(missing.is_empty(), "keys without texts: {missing:#?}");
    }
}
