//! `GET /api/openapi.json`: the API described as OpenAPI 3.1, built from [`OPERATIONS`], the
//! same table a test walks to prove every documented operation is routed (and answers with
//! the documented error shape when refused).

use serde_json::{Value, json};

/// Who may call an operation.
#[derive(Clone, Copy)]
pub enum Access {
    Public,
    /// Any signed-in account (bearer token).
    SignedIn,
}

/// What a request body holds.
#[derive(Clone, Copy)]
pub enum Body {
    /// JSON following this schema.
    Json(fn() -> Value),
    /// The same, or no body at all.
    OptionalJson(fn() -> Value),
    /// A data file: CSV (UTF-8 or GBK), .xlsx or JSON.
    File,
    /// A file of evidence: a photo, a screenshot, a PDF or a chat export.
    Evidence,
    /// A platform's activity: CSV with the delivery columns, or Parquet.
    Activity,
    /// Plain text (a C2SP tlog-witness request).
    Text,
}

pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub access: Access,
    /// The request body, if any.
    pub body: Option<Body>,
    /// Query parameters: (name, required, description, pattern of the value).
    pub query: &'static [(&'static str, bool, &'static str, &'static str)],
    /// Success status and JSON Schema of its body.
    pub ok: (u16, fn() -> Value),
    /// Error statuses it may answer with (each with the one error shape).
    pub errors: &'static [u16],
}

const MONTH: &str = "^[0-9]{4}-(0[1-9]|1[0-2])$";
/// 2–200 characters, none a control character, not only spaces.
const PURPOSE: &str = "^[^\\x00-\\x1f\\x7f]*[^\\x00-\\x20\\x7f][^\\x00-\\x1f\\x7f]*$";

/// A C2SP signed note (text/plain).
fn signed_note() -> Value {
    json!({ "type": "string" })
}

/// A tile's bytes (application/octet-stream).
fn tile_bytes() -> Value {
    json!({ "type": "string", "format": "binary" })
}

/// The media types of an operation's success body: JSON but for the C2SP log paths and a
/// file of evidence, which comes with its own type (one of the types evidence may have).
fn media(path: &str) -> Vec<&'static str> {
    match path {
        "/log/checkpoint" | "/federation/v1/add-checkpoint" => vec!["text/plain"],
        p if p.starts_with("/log/tile/") => vec!["application/octet-stream"],
        "/api/cases/{case}/evidence/{n}" => anxin_service::cases::evidence::Media::ALL
            .iter()
            .map(|m| m.mime())
            .collect(),
        _ => vec!["application/json"],
    }
}

fn object() -> Value {
    json!({ "type": "object" })
}

fn credentials() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["username", "password"],
        "properties": { "username": { "type": "string" }, "password": { "type": "string" } }
    })
}

fn session() -> Value {
    json!({
        "type": "object", "required": ["token", "expires_at", "account"],
        "properties": {
            "token": { "type": "string" }, "expires_at": { "type": "integer" },
            "account": { "$ref": "#/components/schemas/Account" }
        }
    })
}

fn me() -> Value {
    json!({ "type": "object", "required": ["account"], "properties": { "account": { "$ref": "#/components/schemas/Account" } } })
}

fn lookup() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["id", "purpose"],
        "properties": {
            "id": { "type": "string", "pattern": "^[0-9]{17}[0-9X]$", "description": "居民身份证号 resident ID (18 characters, GB 11643 check digit)" },
            "purpose": { "type": "string", "minLength": 2, "maxLength": 200, "pattern": PURPOSE, "description": "查阅用途 why the record is read (shown to the person)" }
        }
    })
}

fn person_ref() -> Value {
    json!({ "type": "object", "required": ["person"], "properties": { "person": { "type": "string", "pattern": "^[0-9a-f]{64}$" } } })
}

fn record() -> Value {
    json!({
        "type": "object", "required": ["person", "summaries", "months"],
        "properties": {
            "person": { "type": "object", "required": ["id_masked", "key"], "properties": {
                "id": { "type": ["string", "null"], "description": "full ID: only for its owner" },
                "id_masked": { "type": "string" }, "key": { "type": "string" }, "name": { "type": "string" }
            } },
            "summaries": { "type": "array", "items": { "type": "object" } },
            "months": { "type": "array", "items": { "type": "object" } }
        }
    })
}

fn reads() -> Value {
    crate::list::schema(json!({ "type": "object",
        "required": ["at", "username", "role", "what", "purpose"],
        "properties": {
            "at": { "type": "integer" }, "account": { "type": "integer" }, "username": { "type": "string" },
            "role": { "type": "string" }, "what": { "type": "string" }, "purpose": { "type": "string" }
        } }))
}

fn inbox_messages() -> Value {
    crate::list::schema(json!({ "type": "object",
        "required": ["id", "kind", "month", "created_at", "read_at", "title_zh", "title_en", "text_zh", "text_en"],
        "properties": {
            "id": { "type": "integer", "minimum": 1, "description": "消息编号 message id (also the cursor)" },
            "kind": { "type": "string", "enum": anxin_service::inbox::all_kinds() },
            "month": { "type": "string", "pattern": MONTH, "description": "消息所说的月份 the month it is about" },
            "created_at": { "type": "integer", "description": "Unix seconds" },
            "read_at": { "type": ["integer", "null"], "description": "Unix seconds; null: unread" },
            "title_zh": { "type": "string" }, "title_en": { "type": "string" },
            "text_zh": { "type": "string" }, "text_en": { "type": "string" }
        } }))
}

fn inbox_rates() -> Value {
    json!({ "type": "object", "required": ["kinds"], "properties": { "kinds": { "type": "array", "items": {
        "type": "object",
        "required": ["kind", "name_zh", "name_en", "messages", "read", "delivered", "dead", "read_percent", "delivered_percent"],
        "properties": {
            "kind": { "type": "string" }, "name_zh": { "type": "string" }, "name_en": { "type": "string" },
            "messages": { "type": "integer", "minimum": 0 }, "read": { "type": "integer", "minimum": 0 },
            "delivered": { "type": "integer", "minimum": 0, "description": "送达网关 the webhook answered 2xx" },
            "dead": { "type": "integer", "minimum": 0, "description": "死信 given up after the configured attempts" },
            "read_percent": { "type": "integer", "minimum": 0, "maximum": 100 },
            "delivered_percent": { "type": "integer", "minimum": 0, "maximum": 100 }
        } } } } })
}

fn platform_workers() -> Value {
    crate::list::schema(json!({ "type": "object",
        "required": ["key", "id_masked", "months", "first_month", "last_month", "amount_fen", "insurances"],
        "properties": {
            "key": { "type": "string", "pattern": "^[0-9a-f]{64}$", "description": "个人编号 person key (also the cursor)" },
            "id_masked": { "type": "string", "description": "部分隐藏的证件号 the resident ID, first and last four characters" },
            "months": { "type": "integer", "minimum": 1, "description": "本平台缴费的月数 months this platform paid" },
            "first_month": { "type": "string", "pattern": MONTH },
            "last_month": { "type": "string", "pattern": MONTH },
            "amount_fen": { "type": "integer", "description": "本平台缴纳金额（分） paid by this platform, fen" },
            "insurances": { "type": "array", "items": { "type": "string" } }
        } }))
}

fn platform_months() -> Value {
    json!({ "type": "object", "required": ["org", "months", "amount_fen"],
        "properties": {
            "org": { "type": "string", "description": "统一社会信用代码 the platform's credit code" },
            "amount_fen": { "type": "integer", "description": "合计（分） everything it paid, fen" },
            "months": { "type": "array", "items": { "type": "object",
                "required": ["month", "workers", "amount_fen"],
                "properties": {
                    "month": { "type": "string", "pattern": MONTH },
                    "workers": { "type": "integer", "minimum": 1 },
                    "amount_fen": { "type": "integer" }
                } } }
        } })
}

fn cert_request() -> Value {
    json!({ "type": "object", "additionalProperties": false,
        "properties": { "purpose": { "type": "string", "minLength": 2, "maxLength": 200, "pattern": PURPOSE, "description": "an official's stated purpose" } } })
}

fn verification() -> Value {
    json!({
        "type": "object", "required": ["ok", "checks"],
        "properties": { "ok": { "type": "boolean" }, "checks": { "type": "array" }, "document": {} }
    })
}

/// The verification code: 16 characters of Crockford's base 32, any case, dashes optional.
const CODE: &str = "^[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}$";

fn code_body() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["code"],
        "properties": { "code": { "type": "string", "pattern": CODE, "description": "核验码 the verification code printed on the certificate" } }
    })
}

fn certificate_file() -> Value {
    json!({
        "type": "object",
        "required": ["format", "suite", "document", "signature", "event", "leaf_index", "tree_size", "inclusion_proof", "checkpoint"],
        "properties": {
            "format": { "type": "string" }, "suite": { "type": "string" },
            "document": { "type": "string" }, "signature": { "type": "string" },
            "event": { "type": "string" }, "leaf_index": { "type": "integer" },
            "tree_size": { "type": "integer" },
            "inclusion_proof": { "type": "array", "items": { "type": "string" } },
            "checkpoint": { "type": "string", "description": "签名检查点，附对等实例见证人的联署 the signed checkpoint note with the peers' witnesses' cosignature lines" }
        }
    })
}

fn code_check() -> Value {
    let run = json!({ "type": ["object", "null"], "required": ["from", "to", "months"] });
    json!({
        "type": "object", "required": ["ok", "code", "certified", "checks", "leaf_index", "tree_size"],
        "properties": {
            "ok": { "type": "boolean" },
            "code": { "type": "string" },
            "certified": { "type": ["object", "null"], "description": "null unless every check holds",
                "required": ["cert_type", "name_masked", "id_masked", "issued_on", "insurances"],
                "properties": { "insurances": { "type": "array", "items": { "type": "object",
                    "required": ["insurance", "paid_months", "longest_run", "current_run", "gaps", "regions"],
                    "properties": { "longest_run": run, "current_run": run } } } } },
            "checks": { "type": "array" },
            "leaf_index": { "type": "integer" },
            "tree_size": { "type": "integer" },
            "witnesses": { "type": "array", "items": { "type": "string" },
                "description": "对等实例的见证人 the peers' witnesses whose cosignatures of the checkpoint the certificate carries (C2SP tlog-cosignature lines in its checkpoint note)" }
        }
    })
}

fn regions() -> Value {
    json!({ "type": "object", "required": ["regions"], "properties": { "regions": { "type": "array", "items": {
        "type": "object", "required": ["code", "zh", "en"],
        "properties": { "code": { "type": "string" }, "zh": { "type": "string" }, "en": { "type": "string" }, "parent": {} } } } } })
}

fn checkpoint() -> Value {
    json!({ "type": "object", "required": ["size", "checkpoint"],
        "properties": { "size": { "type": "integer" }, "checkpoint": { "type": "string" } } })
}

pub const OPERATIONS: &[Operation] = &[
    Operation {
        method: "get",
        path: "/api/regions",
        tag: "policy",
        summary: "地区列表 The regions the policy files know",
        access: Access::Public,
        body: None,
        query: &[],
        ok: (200, regions),
        errors: &[],
    },
    Operation {
        method: "post",
        path: "/api/calc/{calculator}",
        tag: "policy",
        summary: "测算 Run a calculator: quote, pension, backpay, medical, platform, school, school_rank, injury, fiscal, transfer (request shape: the calculator's request type; unknown fields are refused)",
        access: Access::Public,
        body: Some(Body::Json(object)),
        query: &[(
            "today",
            false,
            "“现在”的月份 YYYY-MM; default: this month",
            MONTH,
        )],
        ok: (200, object),
        errors: &[400, 404, 422],
    },
    Operation {
        method: "post",
        path: "/api/certificates/verify",
        tag: "certificates",
        summary: "核验凭证 Check a certificate offline with the issuer's key",
        access: Access::Public,
        body: Some(Body::Json(object)),
        query: &[],
        ok: (200, verification),
        errors: &[503],
    },
    Operation {
        method: "get",
        path: "/api/certificates/{code}",
        tag: "certificates",
        summary: "按核验码核验凭证 What a certificate states (masked) and whether it is genuine, by its verification code (what the QR code names); limited per client",
        access: Access::Public,
        body: None,
        query: &[],
        ok: (200, code_check),
        errors: &[400, 404, 429, 503],
    },
    Operation {
        method: "get",
        path: "/api/certificates/{code}/file",
        tag: "certificates",
        summary: "下载凭证文件 The holder downloads their certificate file again, proven against the latest checkpoint the peers' witnesses cosigned, its checkpoint carrying their cosignatures (C2SP tlog-cosignature); checked offline with `anxin verify FILE --witness NAME=KEY` (the holder only; limited per client like every code lookup)",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (200, certificate_file),
        errors: &[400, 401, 403, 404, 429, 503],
    },
    Operation {
        method: "post",
        path: "/api/certificates/lookup",
        tag: "certificates",
        summary: "按核验码核验凭证 The same, the code in the body (kept out of URLs and logs)",
        access: Access::Public,
        body: Some(Body::Json(code_body)),
        query: &[],
        ok: (200, code_check),
        errors: &[400, 404, 429, 503],
    },
    Operation {
        method: "get",
        path: "/api/log/checkpoint",
        tag: "ledger",
        summary: "签名树头 The log's latest signed checkpoint (C2SP tlog-checkpoint)",
        access: Access::Public,
        body: None,
        query: &[],
        ok: (200, checkpoint),
        errors: &[503],
    },
    Operation {
        method: "post",
        path: "/api/sessions",
        tag: "accounts",
        summary: "登录 Exchange a username and password for a bearer token",
        access: Access::Public,
        body: Some(Body::Json(credentials)),
        query: &[],
        ok: (201, session),
        errors: &[400, 401, 403, 429],
    },
    Operation {
        method: "delete",
        path: "/api/sessions",
        tag: "accounts",
        summary: "退出 End the bearer token's session",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (204, object),
        errors: &[401],
    },
    Operation {
        method: "get",
        path: "/api/me",
        tag: "accounts",
        summary: "我的账户 The signed-in account",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (200, me),
        errors: &[401],
    },
    Operation {
        method: "post",
        path: "/api/persons/lookup",
        tag: "records",
        summary: "按身份证号查找 Find a person's key by resident ID (clerk, inspector; logged with its purpose)",
        access: Access::SignedIn,
        body: Some(Body::Json(lookup)),
        query: &[],
        ok: (200, person_ref),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: "get",
        path: "/api/persons/{key}",
        tag: "records",
        summary: "参保记录 A person's record: the owner, or a clerk/inspector of their region stating a purpose (logged)",
        access: Access::SignedIn,
        body: None,
        query: &[("purpose", false, "查阅用途 required for officials", PURPOSE)],
        ok: (200, record),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: "get",
        path: "/api/persons/{key}/access",
        tag: "records",
        summary: "谁查阅过我的记录 Officials' reads of the owner's record, newest first, a page at a time (owner only)",
        access: Access::SignedIn,
        body: None,
        query: &crate::list::QUERY,
        ok: (200, reads),
        errors: &[400, 401, 403],
    },
    Operation {
        method: "post",
        path: "/api/cases",
        tag: "cases",
        summary: "一键维权、补缴、无雇主参保、集体合同 File a case: for yourself (worker accounts) a rights complaint (to the inspectors of your region), a back-payment request (months checked by your region's rules and the ledger, each refusal naming its rule) or an enrolment without an employer (to the clerks of your region); as a union, a collective agreement with a registered platform (terms checked; both sides then sign); the clocks start (recorded in the log)",
        access: Access::SignedIn,
        body: Some(Body::Json(crate::cases::file_body)),
        query: &[],
        ok: (200, crate::cases::case_schema),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: "get",
        path: "/api/agreements",
        tag: "cases",
        summary: "覆盖我的集体合同 The collective agreements in force that cover the signed-in worker (their platform, region and employment form, between its dates), each with their quote under it: the agreed contribution base and the platform's share (worker accounts). A union files one with POST /api/cases {\"kind\": \"agreement\"}; each side signs with POST /api/cases/{case}/actions (union_sign, platform_sign), the platform submits, the labour administration registers or objects, or the review days pass and it takes effect",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (200, crate::agreements::covering_schema),
        errors: &[401, 403, 404],
    },
    Operation {
        method: "get",
        path: "/api/cases",
        tag: "cases",
        summary: "案件队列 The cases an inspector's or a clerk's office holds or a union's region sees, a page at a time",
        access: Access::SignedIn,
        body: None,
        query: &crate::list::QUERY,
        ok: (200, crate::cases::queue_schema),
        errors: &[400, 401, 403],
    },
    Operation {
        method: "get",
        path: "/api/cases/{case}",
        tag: "cases",
        summary: "案件 A case: its state, who holds it, each deadline with its parameter and source, every step (the filer, the office, the union of the region)",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (200, crate::cases::case_schema),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: "post",
        path: "/api/cases/{case}/actions",
        tag: "cases",
        summary: "办理 Take a step: accept, refuse, extend, mediate, extend_mediation, close (with an outcome), withdraw; approve (a back-payment: the months recorded as back-paid; an enrolment: a first quote) — by the parties the case kind names (recorded in the log)",
        access: Access::SignedIn,
        body: Some(Body::Json(crate::cases::act_body)),
        query: &[],
        ok: (200, crate::cases::case_schema),
        errors: &[400, 401, 403, 404, 409],
    },
    Operation {
        method: "post",
        path: "/api/cases/{case}/evidence",
        tag: "cases",
        summary: "提交证据 Attach one file of evidence to your complaint (the worker who filed it, while it is open): a JPEG photo, a PNG screenshot, a PDF or a UTF-8 chat export, sent as the body with its content type; the type must match the content, size and count within the limits in force; its SHA-256 goes into the log, the file is sealed at rest",
        access: Access::SignedIn,
        body: Some(Body::Evidence),
        query: &[(
            "name",
            false,
            "文件名 the file's name (1–120 characters kept)",
            "^[^\\x00-\\x1f\\x7f]{1,200}$",
        )],
        ok: (200, crate::cases::evidence_schema),
        errors: &[400, 401, 403, 404, 409, 413],
    },
    Operation {
        method: "get",
        path: "/api/cases/{case}/evidence",
        tag: "cases",
        summary: "证据清单 A case's evidence: each file's name, type, size, SHA-256 and log entry (whoever may read the case)",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (200, crate::cases::evidence_schema),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: "get",
        path: "/api/cases/{case}/evidence/{n}",
        tag: "cases",
        summary: "证据文件 One file of a case's evidence, its bytes with its type (whoever may read the case)",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (200, crate::cases::evidence_bytes),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: "get",
        path: "/api/cases/{case}/bundle",
        tag: "cases",
        summary: "证据包 The case's evidence bundle: a signed manifest, every file and its SHA-256, the worker's contribution-history certificate, inclusion proofs of the case's steps and the files' hash entries; verifies offline (anxin case bundle verify)",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (200, crate::cases::bundle_schema),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: "get",
        path: "/api/inbox",
        tag: "inbox",
        summary: "我的消息 The signed-in worker's messages (payment reminders, lapse warnings, closing back-payment windows), newest first, a page at a time (worker accounts, own messages only)",
        access: Access::SignedIn,
        body: None,
        query: &crate::list::QUERY,
        ok: (200, inbox_messages),
        errors: &[400, 401, 403],
    },
    Operation {
        method: "post",
        path: "/api/inbox/{id}/read",
        tag: "inbox",
        summary: "标为已读 Marks one of the caller's messages read (the first time is kept)",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (204, object),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: "get",
        path: "/api/inbox/rates",
        tag: "inbox",
        summary: "消息送达和阅读率 Delivery and read rates per message kind, counts only (clerks, inspectors, analysts)",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (200, inbox_rates),
        errors: &[401, 403],
    },
    // The analyst's desk (issue 17).
    Operation {
        method: "post",
        path: "/api/analyst/simulate",
        tag: "analyst",
        summary: "微观模拟 Simulate reforms against the law in force on the synthetic population: the one-screen summary and every table (analysts; one run at a time, at most 200 000 people, 20 years and 16 million people × years × scenarios)",
        access: Access::SignedIn,
        body: Some(Body::OptionalJson(sim_body)),
        query: &[],
        ok: (200, sim_result),
        errors: &[400, 401, 403, 429],
    },
    Operation {
        method: "get",
        path: "/api/analyst/fiscal",
        tag: "analyst",
        summary: "城乡居民医保财政补助分担 The resident medical subsidy split central/local for every region whose tier is recorded, and the cost of covering inter-provincial migrants where they live (analysts)",
        access: Access::SignedIn,
        body: None,
        query: &[
            (
                "hukou",
                false,
                "流动人口户籍省份 the migrants' hukou province (code or name); default 340000",
                "^[^\\x00-\\x1f\\x7f]{1,40}$",
            ),
            (
                "migrants",
                false,
                "跨省流动人口人数 inter-provincial migrants; default 10000",
                "^[0-9]{1,10}$",
            ),
            (
                "residents",
                false,
                "每地参保居民人数 insured residents per region; default 10000",
                "^[0-9]{1,10}$",
            ),
        ],
        ok: (200, fiscal_result),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: "get",
        path: "/api/platform/workers",
        tag: "platform",
        summary: "本平台缴费的劳动者 The workers this platform paid for, by person key, a page at a time: masked IDs, its own payments only (platform accounts)",
        access: Access::SignedIn,
        body: None,
        query: &crate::list::QUERY,
        ok: (200, platform_workers),
        errors: &[400, 401, 403],
    },
    Operation {
        method: "get",
        path: "/api/platform/months",
        tag: "platform",
        summary: "本平台逐月缴费 What this platform paid, month by month: workers and amount (platform accounts)",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (200, platform_months),
        errors: &[401, 403],
    },
    Operation {
        method: "post",
        path: "/api/persons/{key}/certificate",
        tag: "certificates",
        summary: "开具参保缴费凭证 Issue a signed contribution-history certificate (recorded in the log)",
        access: Access::SignedIn,
        body: Some(Body::OptionalJson(cert_request)),
        query: &[],
        ok: (200, object),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: "get",
        path: "/api/log/inclusion",
        tag: "ledger",
        summary: "包含证明 An entry's offline bundle: its bytes, inclusion proof and the signed checkpoint (clerk, inspector, auditor)",
        access: Access::SignedIn,
        body: None,
        query: &[
            (
                "seq",
                false,
                "日志序号 the entry's place, from 0 (give seq or key)",
                "^[0-9]{1,15}$",
            ),
            (
                "key",
                false,
                "记录号 the entry's record id (give seq or key)",
                "^[^\\x00-\\x1f]{1,200}$",
            ),
        ],
        ok: (200, bundle),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: "get",
        path: "/api/log/consistency",
        tag: "ledger",
        summary: "一致性证明 Proof that the log at `to` (default: now) extends the log at `from`; both sizes the log signed a checkpoint at",
        access: Access::SignedIn,
        body: None,
        query: &[
            (
                "from",
                true,
                "较早的日志大小 the earlier size",
                "^[1-9][0-9]{0,14}$",
            ),
            (
                "to",
                false,
                "较晚的日志大小 the later size (default: now)",
                "^[0-9]{1,15}$",
            ),
        ],
        ok: (200, consistency),
        errors: &[400, 401, 404],
    },
    Operation {
        method: "get",
        path: "/log/checkpoint",
        tag: "ledger",
        summary: "C2SP tlog-tiles 检查点 The latest signed checkpoint as a signed note (text/plain; public)",
        access: Access::Public,
        body: None,
        query: &[],
        ok: (200, signed_note),
        errors: &[503],
    },
    Operation {
        method: "get",
        path: "/log/tile/{level}/{tile_index}",
        tag: "ledger",
        summary: "C2SP 哈希瓦片 A hash tile: up to 256 hashes of 32 bytes, one after another (public: hashes reveal no entry)",
        access: Access::Public,
        body: None,
        query: &[],
        ok: (200, tile_bytes),
        errors: &[404, 503],
    },
    Operation {
        method: "get",
        path: "/log/tile/entries/{tile_index}",
        tag: "ledger",
        summary: "C2SP 条目包 An entry bundle: each entry a big-endian u16 length and its canonical bytes (inspector, auditor: entries name persons by key)",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (200, tile_bytes),
        errors: &[401, 403, 404],
    },
    Operation {
        method: "post",
        path: "/api/audit",
        tag: "ledger",
        summary: "审计 Recompute the log from the stored rows (and, asked, every projection); name every row changed behind its back (clerk, inspector, auditor)",
        access: Access::SignedIn,
        body: Some(Body::OptionalJson(audit_request)),
        query: &[],
        ok: (200, audit_report),
        errors: &[400, 401, 403, 429],
    },
    Operation {
        method: "post",
        path: "/api/imports",
        tag: "imports",
        summary: "导入 Land a file of persons, orgs, children or contributions in the background (clerk); follow it at /api/imports/{id}",
        access: Access::SignedIn,
        body: Some(Body::File),
        query: &[
            (
                "kind",
                true,
                "文件内容 persons | orgs | children | contributions",
                "^(persons|orgs|children|contributions)$",
            ),
            (
                "name",
                false,
                "文件名 the file's name (its extension tells the format); empty: as if not given",
                "^[^\\x00-\\x1f\\x7f-\\x9f]{0,200}$",
            ),
        ],
        ok: (202, import_job),
        errors: &[400, 401, 403, 429],
    },
    Operation {
        method: "get",
        path: "/api/imports/{id}",
        tag: "imports",
        summary: "导入进度 An import's progress, then its counts (its clerk only)",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (200, import_job),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: "get",
        path: "/api/imports/{id}/rejected",
        tag: "imports",
        summary: "拒收的行 An import's refused rows with their reasons, in file order, a page at a time",
        access: Access::SignedIn,
        body: None,
        query: &crate::list::QUERY,
        ok: (200, refusals),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: "post",
        path: "/api/school/review",
        tag: "school",
        summary: "入学申请审核 Review a file of school applications on the guardians' ledger months and rank them for the places (education office); every row once, in file order",
        access: Access::SignedIn,
        body: Some(Body::File),
        query: &[
            (
                "places",
                true,
                "学位数 places, 1–1,000,000",
                "^[1-9][0-9]{0,5}$|^1000000$",
            ),
            (
                "reform",
                false,
                "按改革建议审核 review under the cumulative-first reform",
                "^(true|false)$",
            ),
            (
                "name",
                false,
                "文件名 the file's name (its extension tells the format); empty: as if not given",
                "^[^\\x00-\\x1f\\x7f-\\x9f]{0,200}$",
            ),
        ],
        ok: (200, school_review),
        errors: &[400, 401, 403, 429],
    },
    // Accounts people make and mend, as JSON (issue 13).
    Operation {
        method: "post",
        path: "/api/signups",
        tag: "accounts",
        summary: "劳动者注册 A worker applies for an account with resident ID (check digit checked), name, phone, username, password and the region whose office confirms who they are; pending until a clerk there does; 5 requests an hour per client",
        access: Access::Public,
        body: Some(Body::Json(signup_body)),
        query: &[],
        ok: (201, signup_made),
        errors: &[400, 429, 503],
    },
    Operation {
        method: "get",
        path: "/api/signups",
        tag: "accounts",
        summary: "待核实的开户申请 The sign-up requests waiting for the clerk's region, oldest first, a page at a time: name, masked ID, phone's last four (clerks)",
        access: Access::SignedIn,
        body: None,
        query: &crate::list::QUERY,
        ok: (200, signups_pending),
        errors: &[400, 401, 403],
    },
    Operation {
        method: "post",
        path: "/api/signups/{id}/confirm",
        tag: "accounts",
        summary: "核实身份，开通账户 Confirm a request with the number on the ID card the worker shows (it must be the request's); the account opens, in the worker's access log (clerks of the region)",
        access: Access::SignedIn,
        body: Some(Body::Json(card_body)),
        query: &[],
        ok: (200, signup_decided),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: "post",
        path: "/api/signups/{id}/refuse",
        tag: "accounts",
        summary: "不予开通 Refuse a request with a reason (2–200 characters) the worker reads when signing in (clerks of the region)",
        access: Access::SignedIn,
        body: Some(Body::Json(reason_body)),
        query: &[],
        ok: (200, signup_decided),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: "post",
        path: "/api/password-resets",
        tag: "accounts",
        summary: "重置劳动者密码 Reset the password of a worker at the desk, by the number on their ID card: a temporary password shown once, every session of the account ended, a new password required at the next sign-in, in the worker's access log (clerks of the worker's region)",
        access: Access::SignedIn,
        body: Some(Body::Json(card_body)),
        query: &[],
        ok: (200, reset_made),
        errors: &[400, 401, 403, 404],
    },
    Operation {
        method: "post",
        path: "/api/account/password",
        tag: "accounts",
        summary: "修改自己的密码 Change one's own password: the current one required (403 wrong_password when wrong, counted like a failed sign-in; 429 past the limit), the new one 10–256 characters and different; every session of the account ends (this token's too) and a fresh token comes back; in a worker's access log",
        access: Access::SignedIn,
        body: Some(Body::Json(change_body)),
        query: &[],
        ok: (200, session),
        errors: &[400, 401, 403, 429],
    },
    // Transfers between regional instances (issue 14).
    Operation {
        method: "post",
        path: "/federation/v1/messages",
        tag: "federation",
        summary: "实例间转移消息 One signed message from a peer instance (liaison request, package, acknowledgement, seal or refusal); the answer is the signed replies, the same bytes to a message sent again. Authenticated by its Ed25519 signature against peers.toml: garbage (400), an unknown peer or a key that does not verify (403), a step that does not fit the transfer (409) are refused with the reason's code as `kind` and change nothing; 404 when the instance is not federated, 503 (Retry-After) when storage failed",
        access: Access::Public,
        body: Some(Body::Json(federation_message)),
        query: &[],
        ok: (200, federation_replies),
        errors: &[400, 403, 404, 409, 413, 422, 503],
    },
    Operation {
        method: "post",
        path: "/federation/v1/add-checkpoint",
        tag: "federation",
        summary: "见证 C2SP tlog-witness add-checkpoint: a peer asks this instance to cosign its log's checkpoint (`old <size>`, the consistency proof one base64 hash a line, a blank line, the signed checkpoint). 200: the cosignature line (C2SP tlog-cosignature, Ed25519); 409: the size this witness has cosigned, as text/x.tlog.size (also when the peer's log shrank: kept as an alarm); 422: the proof does not tie it to what was cosigned (a fork: kept as an alarm); 403: not a valid note of the peer's log key; 404: no peer's log, or the instance is not federated",
        access: Access::Public,
        body: Some(Body::Text),
        query: &[],
        ok: (200, signed_note),
        errors: &[400, 403, 404, 409, 413, 422, 503],
    },
    Operation {
        method: "get",
        path: "/api/witness",
        tag: "federation",
        summary: "见证状态 What this instance knows of witnessing: its witness's name and Ed25519 key, the latest checkpoint it cosigned of each peer's log, the alarms (a peer's log rolled back or forked, or this instance's own log behind what a peer's witness cosigned: this log rolled back) with the refused signed checkpoint as evidence, and each witness's latest cosignature of this log (clerks, inspectors, auditors). 404 when the instance is not federated",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (200, witness_status),
        errors: &[401, 403, 404, 503],
    },
    Operation {
        method: "post",
        path: "/api/transfers",
        tag: "federation",
        summary: "申请转移 Ask to move a worker's pension here from the instance keeping `from_region` (a worker for themselves, the resident ID taken from their own record; or a clerk of the destination for a worker at the desk, naming `person_id`); the liaison request leaves with the next round of the outbox. 404 when the instance is not federated or no peer keeps the region",
        access: Access::SignedIn,
        body: Some(Body::Json(transfer_ask)),
        query: &[],
        ok: (201, transfer_started),
        errors: &[400, 401, 403, 404, 409, 422, 503],
    },
    Operation {
        method: "get",
        path: "/api/transfers",
        tag: "federation",
        summary: "转移队列 The open transfers of this instance, both ends, most urgent first, with the working days left on each step's clock (negative: overdue; clerks)",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (200, transfer_queue),
        errors: &[401, 403, 404, 503],
    },
    Operation {
        method: "get",
        path: "/api/transfers/{transfer}",
        tag: "federation",
        summary: "一笔转移 One transfer as this instance sees it: its state, the day it began and its deadline in working days, the package's digest, why it was refused, the months it brought here (the worker it moves, or clerks)",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (200, transfer_view),
        errors: &[401, 403, 404, 503],
    },
    Operation {
        method: "get",
        path: "/api/transfers/{transfer}/voucher",
        tag: "federation",
        summary: "转移凭证 The transfer voucher of a transfer done here (its destination): signed by this instance and carrying the origin's signed seal, checked offline with both federation keys (`anxin transfer voucher FILE`); the holder's ID masked. 404 until the transfer is done (the worker it moves, or clerks)",
        access: Access::SignedIn,
        body: None,
        query: &[],
        ok: (200, transfer_voucher),
        errors: &[401, 403, 404, 503],
    },
    // The monitor's results (issue 16): read from the monthly run's files.
    Operation {
        method: "get",
        path: "/api/grid/alerts",
        tag: "monitor",
        summary: "网格预警 The alerts of the grid cells assigned to the caller (grid workers) in a month's run, open ones first, each with its reason, evidence and steps; people by pseudonym only",
        access: Access::SignedIn,
        body: None,
        query: MONITOR_QUERY,
        ok: (200, crate::monitor::desk_schema),
        errors: &[400, 401, 403, 404, 503],
    },
    Operation {
        method: "post",
        path: "/api/grid/alerts/{alert}/steps",
        tag: "monitor",
        summary: "处理预警 Take a step on an alert of one's cells: acknowledge, contact (via visit|phone|message|other, when, a note with no ID or phone number) or close (with an outcome from the fixed list); recorded in the log",
        access: Access::SignedIn,
        body: Some(Body::Json(crate::monitor::step_body)),
        query: &[],
        ok: (200, crate::monitor::alert_schema),
        errors: &[400, 401, 403, 404, 409, 503],
    },
    Operation {
        method: "get",
        path: "/api/monitor/compliance",
        tag: "monitor",
        summary: "平台参保合规 Each platform registered in the caller's region (inspectors) in the run's year: active and insured workers, coverage, grade and why; the under-80 %-for-3-years list (a proposal); injury bills",
        access: Access::SignedIn,
        body: None,
        query: MONITOR_QUERY,
        ok: (200, crate::monitor::compliance_schema),
        errors: &[400, 401, 403, 404, 503],
    },
    Operation {
        method: "get",
        path: "/api/monitor/rating",
        tag: "monitor",
        summary: "本平台评级 The caller platform's own rating, injury bill and the workers counted against it (pseudonyms only)",
        access: Access::SignedIn,
        body: None,
        query: MONITOR_QUERY,
        ok: (200, crate::monitor::rating_schema),
        errors: &[400, 401, 403, 404, 503],
    },
    Operation {
        method: "post",
        path: "/api/platform/activity",
        tag: "monitor",
        summary: "报送平台数据 The caller platform's batch of activity of one month (CSV: order_id,platform,resident_id,time,amount_fen,sector,area; or Parquet with those columns), checked row by row like a delivered file: the good rows land (resident IDs replaced by the keyed hash), every refused row is answered with its reason; wrong columns land nothing",
        access: Access::SignedIn,
        body: Some(Body::Activity),
        query: &[(
            "month",
            true,
            "月份 the month of the activity, YYYY-MM",
            MONTH,
        )],
        ok: (200, crate::monitor::delivery_schema),
        errors: &[400, 401, 403, 404, 413, 503],
    },
];

/// The month of a monitor read (default: the latest run).
const MONITOR_QUERY: &[(&str, bool, &str, &str)] = &[(
    "month",
    false,
    "月份 the run's month, YYYY-MM (default: the latest run)",
    MONTH,
)];

fn signup_body() -> Value {
    let text = json!({ "type": "string", "maxLength": 256 });
    json!({
        "type": "object", "additionalProperties": false,
        "required": ["resident_id", "name", "phone", "username", "password", "region"],
        "properties": {
            "resident_id": { "type": "string", "description": "身份证号 18 characters, GB 11643 check digit" },
            "name": { "type": "string", "description": "姓名 as on the ID card, 1–40 characters, no digits" },
            "phone": { "type": "string", "description": "手机号 11 digits starting with 1 (+86, spaces, dashes allowed)" },
            "username": { "type": "string", "description": "3–32 lowercase letters, digits or . _ -" },
            "password": text,
            "region": { "type": "string", "description": "六位地区代码 the region whose office confirms who you are (GET /api/regions)" }
        }
    })
}

fn signup_made() -> Value {
    json!({
        "type": "object", "required": ["id", "username", "region", "state", "zh", "en"],
        "properties": {
            "id": { "type": "integer" }, "username": { "type": "string" },
            "region": { "type": "string" }, "state": { "const": "pending" },
            "zh": { "type": "string" }, "en": { "type": "string" }
        }
    })
}

fn signups_pending() -> Value {
    crate::list::schema(json!({
        "type": "object",
        "required": ["id", "username", "name", "masked_id", "phone_tail", "region", "created_at", "registered", "accounts"],
        "properties": {
            "id": { "type": "integer" }, "username": { "type": "string" },
            "name": { "type": "string" }, "masked_id": { "type": "string" },
            "phone_tail": { "type": "string" }, "region": { "type": "string" },
            "created_at": { "type": "integer" }, "registered": { "type": "boolean" },
            "accounts": { "type": "integer" }
        }
    }))
}

fn card_body() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["card"],
        "properties": { "card": { "type": "string", "description": "证件上的号码 the number on the ID card shown" } }
    })
}

fn reason_body() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["reason"],
        "properties": { "reason": { "type": "string", "description": "原因 2–200 characters, the worker reads it" } }
    })
}

fn signup_decided() -> Value {
    json!({
        "type": "object", "required": ["id", "state"],
        "properties": {
            "id": { "type": "integer" },
            "state": { "enum": ["confirmed", "refused"] },
            "username": { "type": "string" }
        }
    })
}

fn reset_made() -> Value {
    json!({
        "type": "object", "required": ["username", "temporary_password", "must_change"],
        "properties": {
            "username": { "type": "string" },
            "temporary_password": { "type": "string", "description": "shown once; hand it to the worker in person" },
            "must_change": { "const": true }
        }
    })
}

fn change_body() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["current", "new"],
        "properties": {
            "current": { "type": "string" },
            "new": { "type": "string", "description": "10–256 characters, not the current one" }
        }
    })
}

fn transfer_view() -> Value {
    json!({
        "type": "object",
        "required": ["id", "role", "peer", "state", "since", "due", "package", "refusal", "undelivered", "months", "sealed"],
        "properties": {
            "id": { "type": "string" },
            "role": { "type": "string", "enum": ["origin", "destination"] },
            "peer": { "type": "string" },
            "state": { "type": "string", "enum": ["requested", "frozen", "recorded", "sealed", "done", "refused"] },
            "since": { "type": "string" }, "due": { "type": ["string", "null"] },
            "package": { "type": ["string", "null"] },
            "refusal": { "type": ["object", "null"], "required": ["kind", "zh", "en"], "properties": {
                "kind": { "type": "string" }, "zh": { "type": "string" }, "en": { "type": "string" } } },
            "undelivered": { "type": ["object", "null"],
                "description": "这笔转移的上一条消息没有送达对方的原因（系统仍在重试）why the transfer's last message did not get through to the peer, while the outbox tries it again: unreachable, garbage, or the code the peer refused it with (unknown_peer, wrong_key, …), in this instance's words",
                "required": ["kind", "status", "zh", "en", "at", "next_try"], "properties": {
                "kind": { "type": "string" }, "status": { "type": ["integer", "null"] },
                "zh": { "type": "string" }, "en": { "type": "string" },
                "at": { "type": "integer" }, "next_try": { "type": ["integer", "null"] } } },
            "months": { "type": ["integer", "null"] },
            "sealed": { "type": "boolean" }
        }
    })
}

fn transfer_voucher() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["voucher", "signature"],
        "properties": {
            "voucher": { "type": "string", "description": "凭证的 JSON 原文 the voucher's JSON, exactly as signed (transfer, origin, destination, holder masked, issued, months per region, pooling_fen, personal_account_fen, total_fen, claim_place, package, seal)" },
            "signature": { "type": "string", "description": "转入地的 Ed25519 签名 the destination's Ed25519 signature (base64, context anxin/transfer-voucher/v1)" }
        }
    })
}

fn transfer_ask() -> Value {
    let region = json!({ "type": "string", "pattern": "^[0-9]{6}$" });
    json!({
        "type": "object", "additionalProperties": false,
        "required": ["from_region", "to_region"],
        "properties": {
            "person_id": { "type": "string", "description": "公民身份号码 resident ID of the worker at the desk, for a clerk (sealed to the origin; never logged); a worker leaves it out: their own record's is used, and naming anyone else is refused (422 not_this_person)" },
            "from_region": region, "to_region": region,
            "elsewhere": { "type": "array", "items": { "type": "object" }, "description": "其他地区的养老保险缴费期间 pension periods elsewhere (the transfer calculator's periods)" },
            "medical_gap_months": { "type": ["integer", "null"], "minimum": 0 }
        }
    })
}

fn transfer_started() -> Value {
    json!({
        "type": "object", "required": ["id", "state", "peer", "due"],
        "properties": {
            "id": { "type": "string" }, "state": { "type": ["string", "null"] },
            "peer": { "type": ["string", "null"] }, "due": { "type": ["string", "null"] }
        }
    })
}

fn transfer_queue() -> Value {
    json!({
        "type": "object", "required": ["items"],
        "properties": { "items": { "type": "array", "items": {
            "type": "object", "required": ["id", "role", "state", "peer", "due", "working_days_left"],
            "properties": {
                "id": { "type": "string" },
                "role": { "type": "string", "enum": ["origin", "destination"] },
                "state": { "type": "string", "enum": ["requested", "frozen", "recorded"] },
                "peer": { "type": ["string", "null"] },
                "due": { "type": ["string", "null"] },
                "working_days_left": { "type": ["integer", "null"] }
            } } } }
    })
}

/// A signed federation message: the envelope's JSON exactly as signed, and its signature.
fn federation_message() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["message", "signature"],
        "properties": {
            "message": { "type": "string", "description": "信封的 JSON 原文 the envelope's JSON, exactly as signed (v, kind, from, to, transfer, idem, at, body)" },
            "signature": { "type": "string", "description": "Ed25519 签名 signature, standard base64 (context anxin/federation/v1)" }
        }
    })
}

fn witness_status() -> Value {
    json!({
        "type": "object", "required": ["name", "public_key", "seen", "alarms", "cosigned_by"],
        "properties": {
            "name": { "type": "string" }, "public_key": { "type": "string" },
            "seen": { "type": "array", "items": { "type": "object", "required": ["peer", "size", "at"],
                "properties": { "peer": { "type": "string" }, "size": { "type": "integer" }, "at": { "type": "integer" } } } },
            "alarms": { "type": "array", "items": { "type": "object",
                "required": ["id", "peer", "at", "kind", "seen_size", "size", "zh", "en", "checkpoint"],
                "properties": { "id": { "type": "integer" }, "peer": { "type": "string" }, "at": { "type": "integer" },
                    "kind": { "type": "string", "enum": ["rollback", "fork", "behind"] },
                    "seen_size": { "type": "integer" }, "size": { "type": "integer" },
                    "zh": { "type": "string" }, "en": { "type": "string" }, "checkpoint": { "type": "string" } } } },
            "cosigned_by": { "type": "array", "items": { "type": "object", "required": ["witness", "size", "at"],
                "properties": { "witness": { "type": "string" }, "size": { "type": "integer" }, "at": { "type": "integer" } } } }
        }
    })
}

fn federation_replies() -> Value {
    json!({ "type": "array", "items": federation_message() })
}

fn school_review() -> Value {
    json!({ "type": "object", "required": ["reviewed", "admitted", "refused", "reform", "lines"],
        "properties": { "reviewed": { "type": "integer" }, "admitted": { "type": "integer" },
            "refused": { "type": "integer" }, "reform": { "type": "boolean" },
            "lines": { "type": "array", "items": { "type": "object",
                "required": ["row", "application", "city", "month", "decision", "points", "rank", "admitted", "decided_by", "zh", "en"],
                "properties": { "row": { "type": "integer" }, "application": { "type": "string" },
                    "decision": { "type": "string", "enum": ["eligible", "eligible_hardship", "not_yet", "rejected"] },
                    "admitted": { "type": "boolean" } } } } } })
}

fn bundle() -> Value {
    json!({ "type": "object", "required": ["leaf_index", "tree_size", "inclusion_proof_base64", "checkpoint"],
        "properties": { "leaf_index": { "type": "integer" }, "tree_size": { "type": "integer" },
            "leaf_data_base64": { "type": "string" },
            "inclusion_proof_base64": { "type": "array", "items": { "type": "string" } },
            "checkpoint": { "type": "string" } } })
}

fn consistency() -> Value {
    json!({ "type": "object", "required": ["size1", "size2", "checkpoint1", "checkpoint2", "consistency_proof_hex"],
        "properties": { "size1": { "type": "integer" }, "size2": { "type": "integer" },
            "checkpoint1": { "type": "string" }, "checkpoint2": { "type": "string" },
            "consistency_proof_hex": { "type": "array", "items": { "type": "string" } } } })
}

fn audit_request() -> Value {
    json!({ "type": "object", "additionalProperties": false,
        "properties": { "projections": { "type": "boolean", "description": "also rebuild every projection from the log" } } })
}

fn audit_report() -> Value {
    json!({ "type": "object", "required": ["clean", "log_size", "events", "findings", "seconds"],
        "properties": { "clean": { "type": "boolean" }, "log_size": { "type": "integer" },
            "events": { "type": "integer" }, "findings": { "type": "array", "items": { "type": "object",
                "required": ["table", "row", "zh", "en"] } },
            "findings_not_listed": { "type": "integer" },
            "access_rows": { "type": "integer", "description": "access log rows checked against the log entries that chain them" },
            "seconds": { "type": "number" } } })
}

fn import_job() -> Value {
    json!({ "type": "object", "required": ["id", "kind", "rows_total", "rows_read", "finished", "counts", "error"],
        "properties": { "id": { "type": "integer" }, "file": { "type": "string" }, "kind": { "type": "string" },
            "rows_total": { "type": "integer" }, "rows_read": { "type": "integer" }, "finished": { "type": "boolean" },
            "counts": { "type": "object", "required": ["added", "unchanged", "rejected"] },
            "error": { "type": ["object", "null"] }, "rejected": { "type": "string" } } })
}

fn refusals() -> Value {
    crate::list::schema(
        json!({ "type": "object", "required": ["row", "column", "value", "zh", "en"],
        "properties": { "row": { "type": "integer" }, "column": { "type": "string" },
            "value": { "type": "string" }, "zh": { "type": "string" }, "en": { "type": "string" } } }),
    )
}

fn sim_body() -> Value {
    json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "reforms": { "type": "array", "items": { "type": "string" } },
            "years": { "type": ["integer", "null"], "minimum": 1, "maximum": 20, "description": "null or absent: 10" },
            "seed": { "type": ["integer", "null"], "minimum": 0, "description": "null or absent: 1" },
            "persons": { "type": ["integer", "null"], "minimum": 1, "maximum": 200000, "description": "null or absent: 10000" }
        }
    })
}

fn sim_result() -> Value {
    json!({
        "type": "object", "required": ["start", "years", "seed", "persons", "summary", "tables"],
        "properties": {
            "start": { "type": "string" }, "years": { "type": "integer" },
            "seed": { "type": "integer" }, "persons": { "type": "integer" },
            "reforms": { "type": "array", "items": { "type": "string" } },
            "regions": { "type": "array", "items": { "type": "string" } },
            "summary": { "type": "array", "items": { "type": "object" } },
            "tables": { "type": "object", "additionalProperties": {
                "type": "object", "required": ["header", "rows"],
                "properties": { "header": { "type": "array", "items": { "type": "string" } },
                    "rows": { "type": "array", "items": { "type": "array", "items": { "type": "string" } } } } } }
        }
    })
}

fn fiscal_result() -> Value {
    json!({
        "type": "object", "required": ["year", "regions"],
        "properties": { "year": { "type": "integer" },
            "regions": { "type": "array", "items": { "type": "object" } } }
    })
}

fn error_schema() -> Value {
    json!({
        "type": "object", "required": ["error"],
        "properties": { "error": { "type": "object", "required": ["kind", "zh", "en"], "properties": {
            "kind": { "type": "string" }, "zh": { "type": "string" }, "en": { "type": "string" }
        } } }
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "请求有误 bad input: what is wrong and what is allowed",
        401 => "未登录 not signed in",
        403 => "无权 not allowed for this account",
        404 => "没有 not found",
        422 => "不适用 not applicable",
        429 => "太频繁或正忙 too many attempts, or that work is already running (see Retry-After)",
        503 => "未配置 not configured on this server",
        _ => "error",
    }
}

fn operation_id(method: &str, path: &str) -> String {
    format!("{method}{}", path.replace(['/', '{', '}'], "_"))
}

/// What a success answer leads to (OpenAPI links), so a client, or a stateful fuzzer, can
/// chain operations: a lookup's person to their record, access log and certificate; an
/// import's id to its progress and refusals; the checkpoint's size to a consistency proof.
fn links(method: &str, path: &str) -> Option<Value> {
    let to = |targets: &[(&str, &str)], parameter: &str, value: &str| -> Value {
        let mut links = serde_json::Map::new();
        for (m, p) in targets {
            links.insert(
                operation_id(m, p),
                json!({ "operationId": operation_id(m, p), "parameters": { parameter: value } }),
            );
        }
        Value::Object(links)
    };
    let person = [
        ("get", "/api/persons/{key}"),
        ("get", "/api/persons/{key}/access"),
        ("post", "/api/persons/{key}/certificate"),
    ];
    let import = [
        ("get", "/api/imports/{id}"),
        ("get", "/api/imports/{id}/rejected"),
    ];
    Some(match (method, path) {
        ("post", "/api/persons/lookup") => to(&person, "key", "$response.body#/person"),
        ("get", "/api/me") => to(&person, "key", "$response.body#/account/person"),
        ("get", "/api/inbox") => to(&[("get", "/api/inbox")], "after", "$response.body#/next"),
        ("get", "/api/platform/workers") => to(
            &[("get", "/api/platform/workers")],
            "after",
            "$response.body#/next",
        ),
        ("post", "/api/imports") | ("get", "/api/imports/{id}") => {
            to(&import, "id", "$response.body#/id")
        }
        ("get", "/api/log/checkpoint") => to(
            &[("get", "/api/log/consistency")],
            "from",
            "$response.body#/size",
        ),
        _ => return None,
    })
}

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for op in OPERATIONS {
        let mut parameters: Vec<Value> = op
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                let schema = match name {
                    "key" => json!({ "type": "string", "pattern": "^[0-9a-f]{64}$" }),
                    "id" => json!({ "type": "string", "pattern": "^[1-9][0-9]{0,15}$" }),
                    "code" => json!({ "type": "string", "pattern": CODE }),
                    "case" => json!({ "type": "string", "pattern": "^c-[0-9a-f]{16}$" }),
                    "transfer" => json!({ "type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}:[0-9]{1,20}$", "description": "转移编号 transfer id: {destination}:{n}" }),
                    "alert" => json!({ "type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])-[0-9a-f]{16}$", "description": "预警编号 the run's month and the worker's pseudonym" }),
                    "n" => json!({ "type": "string", "pattern": "^[1-9][0-9]{0,3}$", "description": "证据编号 evidence number" }),
                    "level" => json!({ "type": "string", "pattern": "^([0-7])$", "description": "瓦片层 tile level (C2SP tlog-tiles, height 8)" }),
                    "tile_index" => json!({ "type": "string",
                        "pattern": "^[0-9]{3}$",
                        "description": "瓦片序号 tile index N as three digits (one path segment). C2SP tlog-tiles writes a larger N in further segments (x001/x234/067) and a partial tile as N.p/W; the server serves those paths too, but a path parameter cannot carry a '/', so they are described here rather than patterned" }),
                    _ => json!({ "type": "string", "enum": ["quote", "pension", "backpay", "medical", "platform", "school", "school_rank", "injury", "fiscal"] }),
                };
                json!({ "name": name, "in": "path", "required": true, "schema": schema })
            })
            .collect();
        for (name, required, description, pattern) in op.query {
            parameters.push(json!({ "name": name, "in": "query", "required": required,
                "description": description, "schema": { "type": "string", "pattern": pattern } }));
        }
        let mut responses = serde_json::Map::new();
        let (status, schema) = op.ok;
        let ok = if status == 204 {
            json!({ "description": "完成 done" })
        } else {
            let content: serde_json::Map<String, Value> = media(op.path)
                .into_iter()
                .map(|m| (m.to_string(), json!({ "schema": schema() })))
                .collect();
            json!({ "description": "成功 success", "content": content })
        };
        let mut ok = ok;
        if let Some(links) = links(op.method, op.path) {
            ok["links"] = links;
        }
        responses.insert(status.to_string(), ok);
        let mut errors: Vec<u16> = op.errors.to_vec();
        // Every body-taking operation may refuse an oversized or unreadable body.
        if op.body.is_some() {
            errors.extend([400, 413]);
        }
        errors.sort_unstable();
        errors.dedup();
        for e in errors {
            let description = if e == 413 {
                // Refused by the body limit before any handler runs.
                "请求体太大 body over the limit (1 MiB; imports 64 MiB, school reviews 32 MiB, federation messages 8 MiB)"
            } else {
                reason(e)
            };
            let response = if e == 409
                && op.path == anxin_service::transfer::witness::ADD_CHECKPOINT_PATH
            {
                // C2SP tlog-witness: the size the witness has cosigned, as text.
                json!({ "description": reason(e), "content": { "text/x.tlog.size": { "schema": { "type": "string" } } } })
            } else {
                json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
            };
            responses.insert(e.to_string(), response);
        }
        let mut operation = json!({
            "tags": [op.tag], "summary": op.summary,
            "operationId": operation_id(op.method, op.path),
            "parameters": parameters, "responses": responses,
        });
        match op.body {
            Some(Body::Json(schema)) | Some(Body::OptionalJson(schema)) => {
                operation["requestBody"] = json!({
                    "required": matches!(op.body, Some(Body::Json(_))),
                    "content": { "application/json": { "schema": schema() } } });
            }
            Some(Body::File) => {
                let file = json!({ "schema": { "type": "string", "format": "binary" } });
                let json = json!({ "schema": { "type": ["array", "object"] } });
                operation["requestBody"] = json!({ "required": true, "content": {
                    "text/csv": file, "application/json": json,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": file } });
            }
            Some(Body::Activity) => {
                let file = json!({ "schema": { "type": "string", "format": "binary" } });
                operation["requestBody"] = json!({ "required": true, "content": {
                    "text/csv": file, "application/vnd.apache.parquet": file } });
            }
            Some(Body::Evidence) => {
                let file = json!({ "schema": { "type": "string", "format": "binary" } });
                operation["requestBody"] = json!({ "required": true, "content": {
                    "image/jpeg": file, "image/png": file, "application/pdf": file,
                    "text/plain": file } });
            }
            Some(Body::Text) => {
                operation["requestBody"] = json!({ "required": true, "content": {
                    "text/plain": { "schema": { "type": "string" } } } });
            }
            None => {}
        }
        if matches!(op.access, Access::SignedIn) {
            operation["security"] = json!([{ "bearer": [] }]);
        }
        let entry = paths
            .entry(op.path.to_string())
            .or_insert_with(|| json!({}));
        entry[op.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "安心 anxin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "灵活就业人员社会保险：测算、记录、凭证、账本。Errors share one shape: {\"error\": {\"kind\", \"zh\", \"en\"}}. Amounts are integer fen.",
        },
        "paths": paths,
        "components": {
            "schemas": {
                "Error": error_schema(),
                "Account": { "type": "object", "required": ["username", "role"], "properties": {
                    "username": { "type": "string" }, "role": { "type": "string" },
                    "region": { "type": ["string", "null"] }, "org": { "type": ["string", "null"] },
                    "person": { "type": ["string", "null"] } } },
            },
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "description": "POST /api/sessions" } },
        },
    })
}
