//! `anxin transfer key` prints this instance's entry for its peers' `peers.toml` (making its
//! federation key the first time); `anxin transfer verify FILE` checks a signed transfer
//! package offline against this instance's key and peers (`anxin_service::transfer`).
//!
//! `anxin transfer plan`: the rules of a transfer between regions (what moves, the temporary
//! account, duplicates, the place of claim, every deadline in working days), from flags or a
//! JSON request file of the calculator's own shape (`calc::transfer::TransferRequest`, as
//! `POST /api/calc/transfer` takes). Parsing and printing only; the rules are in
//! `anxin_policy::calc::transfer`.

use std::fmt::Write;
use std::path::PathBuf;

use anxin_domain::{Fen, Sex, YearMonth};
use anxin_policy::calc::transfer::{self, Mode, Period, Step, TransferRequest, TransferResult};
use anxin_policy::{Error, Lang, Policy};
use clap::{Args, Subcommand};

use crate::render::{line, notes, yuan};

#[derive(Subcommand)]
pub enum TransferCommand {
    /// 转移测算 — what moves, the temporary account, duplicate months, where the pension is claimed, each step's deadline.
    Plan(PlanArgs),
    /// 本实例的联邦密钥 — print this instance's [[peer]] entry for its peers' peers.toml (makes federation.key in the data directory the first time).
    Key(KeyArgs),
    /// 离线核验转移包 — check a signed transfer package against this instance's key and peers.toml: signature, sealed identity, every inclusion proof, the history and the figures re-computed.
    Verify(VerifyArgs),
    /// 离线核验转移凭证 — check a transfer voucher (转移凭证) with the two instances' federation keys: the destination's signature and the origin's seal of the same package.
    Voucher(VoucherArgs),
}

#[derive(Args)]
pub struct VoucherArgs {
    /// The voucher file (JSON: voucher and signature), as downloaded.
    file: PathBuf,
    /// An instance's federation key, NAME=BASE64 (the `key` of its [[peer]] entry); give the
    /// destination's and the origin's. Without it: this data directory's own key (named by
    /// the voucher's destination) and its peers.toml.
    #[arg(long = "key", value_name = "NAME=BASE64")]
    keys: Vec<String>,
}

#[derive(Args)]
pub struct KeyArgs {
    /// This instance's name among its peers (letters, digits, . - _ /).
    #[arg(long)]
    name: String,
    /// Where its peers reach it, e.g. http://10.0.0.5:8080.
    #[arg(long)]
    url: String,
    /// A region whose records it keeps (repeatable), e.g. 341200.
    #[arg(long = "region", required = true)]
    regions: Vec<String>,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// This instance's name among its peers.
    #[arg(long)]
    name: String,
    /// The signed package (JSON: message and signature).
    file: PathBuf,
}

fn refusal(r: anxin_service::transfer::Refusal) -> Error {
    Error::new(r.why.kind(), r.zh, r.en)
}

fn key(g: &crate::Global, a: KeyArgs) -> Result<(), Error> {
    use anxin_service::transfer::keys::{InstanceKey, peer_entry};
    let dir = g.data_dir();
    let deployment = anxin_service::deployment::Deployment::open(&dir).map_err(|e| {
        let text = e.to_string();
        Error::new(anxin_domain::ErrorKind::NotFound, text.clone(), text)
    })?;
    let vkey = deployment.public_key_text().map_err(|e| {
        let text = e.to_string();
        Error::new(anxin_domain::ErrorKind::Internal, text.clone(), text)
    })?;
    let mut regions = Vec::new();
    for r in &a.regions {
        regions.push(anxin_domain::RegionCode::parse(r).map_err(|_| {
            Error::bad_input(
                format!("地区代码 {r} 无效"),
                format!("{r} is not a region code"),
            )
        })?);
    }
    let k = InstanceKey::load_or_create(&dir, &a.name).map_err(refusal)?;
    print!("{}", peer_entry(&k, &a.url, &vkey, &regions));
    Ok(())
}

/// The first line of a check that passed: what, from where to where, which transfer.
fn verified(what: &str, (from, to, transfer): (&str, &str, &str), lang: Lang) -> String {
    format!(
        "{what}：{from} → {to}（{} {transfer}）\n",
        lang.pick("转移", "transfer")
    )
}

fn voucher(g: &crate::Global, a: VoucherArgs) -> Result<(), Error> {
    use anxin_service::transfer::voucher::{self, SignedVoucher, Voucher};
    use base64::Engine as _;
    let text = std::fs::read_to_string(&a.file).map_err(|e| {
        Error::bad_input(
            format!("读不了 {}：{e}", a.file.display()),
            format!("cannot read {}: {e}", a.file.display()),
        )
    })?;
    let signed: SignedVoucher = serde_json::from_str(&text).map_err(|e| {
        Error::bad_input(
            format!("不是转移凭证文件（需要 voucher 和 signature）：{e}"),
            format!("not a transfer voucher file (voucher and signature are needed): {e}"),
        )
    })?;
    // Whose keys to look for: the names the voucher claims (checked by the signatures).
    let claimed: Voucher = serde_json::from_str(&signed.voucher).map_err(|e| {
        Error::bad_input(
            format!("凭证内容无法读取：{e}"),
            format!("the voucher's content does not parse: {e}"),
        )
    })?;
    let mut keys: Vec<(String, [u8; 32])> = Vec::new();
    for k in &a.keys {
        let parsed = k.split_once('=').and_then(|(n, b)| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()?;
            Some((n.trim().to_string(), <[u8; 32]>::try_from(bytes).ok()?))
        });
        keys.push(parsed.ok_or_else(|| {
            Error::bad_input(
                format!("--key {k} 的格式应为 名字=base64 公钥（32 字节）"),
                format!("--key {k} must be NAME=BASE64 (a 32-byte public key)"),
            )
        })?);
    }
    if a.keys.is_empty() {
        use anxin_service::transfer::keys::{InstanceKey, KEY_FILE, Peers};
        let dir = g.data_dir();
        if dir.join(KEY_FILE).exists() {
            let me = InstanceKey::load_or_create(&dir, &claimed.destination).map_err(refusal)?;
            keys.push((claimed.destination.clone(), me.public()));
        }
        for p in Peers::load(&dir).map_err(refusal)?.peers {
            keys.push((p.name, p.key));
        }
    }
    let find = |name: &str| {
        keys.iter()
            .find(|(n, _)| n == name)
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                Error::new(
                    anxin_domain::ErrorKind::NotFound,
                    format!("没有 {name} 的公钥：用 --key {name}=BASE64 给出"),
                    format!("no key for {name}: give it with --key {name}=BASE64"),
                )
            })
    };
    let v = voucher::verify(
        &signed,
        &find(&claimed.destination)?,
        &find(&claimed.origin)?,
    )
    .map_err(refusal)?;
    let lang = g.lang;
    let mut o = verified(
        lang.pick("转移凭证核验通过", "Transfer voucher verified"),
        (
            v.origin.as_str(),
            v.destination.as_str(),
            v.transfer.as_str(),
        ),
        lang,
    );
    let _ = writeln!(
        o,
        "  {}：{}  {}：{}",
        lang.pick("持有人", "holder"),
        v.holder,
        lang.pick("开具日期", "issued"),
        v.issued
    );
    for m in &v.months {
        let _ = writeln!(
            o,
            "  {} {}–{}：{} {}",
            m.region,
            m.first,
            m.last,
            m.months,
            lang.pick("个月", "months")
        );
    }
    let _ = writeln!(
        o,
        "  {}：{}  {}：{}",
        lang.pick("统筹基金", "pooling fund"),
        yuan(Fen(v.pooling_fen), lang),
        lang.pick("待遇领取地", "place of claim"),
        v.claim_place
    );
    print!("{o}");
    Ok(())
}

fn verify(g: &crate::Global, policy: &Policy, a: VerifyArgs) -> Result<(), Error> {
    use anxin_service::transfer::keys::{InstanceKey, Peers};
    use anxin_service::transfer::message::Signed;
    use anxin_service::transfer::package;
    let dir = g.data_dir();
    if !dir.join(anxin_service::transfer::keys::KEY_FILE).exists() {
        return Err(Error::new(
            anxin_domain::ErrorKind::NotFound,
            format!("{} 没有联邦密钥：先运行 anxin transfer key", dir.display()),
            format!(
                "{} has no federation key: run anxin transfer key first",
                dir.display()
            ),
        ));
    }
    let me = InstanceKey::load_or_create(&dir, &a.name).map_err(refusal)?;
    let peers = Peers::load(&dir).map_err(refusal)?;
    let text = std::fs::read_to_string(&a.file).map_err(|e| {
        Error::bad_input(
            format!("读不了 {}：{e}", a.file.display()),
            format!("cannot read {}: {e}", a.file.display()),
        )
    })?;
    let signed = Signed::from_json(&text).map_err(refusal)?;
    let (envelope, v) = package::verify(policy, &me, &peers, &signed, None).map_err(refusal)?;
    let r = &v.result;
    let lang = g.lang;
    let mut o = verified(
        lang.pick("转移包核验通过", "Transfer package verified"),
        (
            envelope.from.as_str(),
            envelope.to.as_str(),
            envelope.transfer.as_str(),
        ),
        lang,
    );
    let _ = writeln!(
        o,
        "  {}：{} {}，{} {}",
        lang.pick("证明的记录", "proven entries"),
        v.package.entries.len(),
        lang.pick("条", "entries"),
        lang.pick("检查点大小", "checkpoint size"),
        v.checkpoint.tree_size
    );
    let _ = writeln!(
        o,
        "  {}：{}（{}）",
        lang.pick("持有人", "holder"),
        v.id.masked(),
        lang.pick(
            "身份号码已用本实例密钥打开",
            "ID opened with this instance's key"
        )
    );
    render_pension(&mut o, r, lang);
    crate::emit(
        g,
        &serde_json::json!({
            "transfer": envelope.transfer,
            "from": envelope.from,
            "to": envelope.to,
            "entries": v.package.entries.len(),
            "checkpoint_size": v.checkpoint.tree_size,
            "result": v.package.result,
        }),
        &r.trace,
        || o,
    )
}

fn render_pension(o: &mut String, r: &TransferResult, lang: Lang) {
    let _ = writeln!(
        o,
        "  {}：{}，{} {}",
        lang.pick("统筹基金", "pooling fund"),
        yuan(r.pension.pooling_fen, lang),
        lang.pick("月数", "months"),
        r.pension.months
    );
    if let Some(t) = r.pension.total_fen {
        let _ = writeln!(
            o,
            "  {}：{}",
            lang.pick("合计转移", "total moving"),
            yuan(t, lang)
        );
    }
}

#[derive(Args)]
pub struct PlanArgs {
    /// A JSON request (the shape of POST /api/calc/transfer) instead of the flags below.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["from", "to", "hukou", "sex", "birth", "periods"])]
    request: Option<PathBuf>,
    /// Origin (转出地): code, name or alias.
    #[arg(long, required_unless_present = "request")]
    from: Option<String>,
    /// Destination (转入地).
    #[arg(long, required_unless_present = "request")]
    to: Option<String>,
    /// Hukou region (户籍所在地).
    #[arg(long, required_unless_present = "request")]
    hukou: Option<String>,
    /// male or female (男 / 女).
    #[arg(long, value_parser = parse_sex, required_unless_present = "request")]
    sex: Option<Sex>,
    /// Birth date, YYYY-MM-DD.
    #[arg(long, required_unless_present = "request")]
    birth: Option<String>,
    /// The request date, YYYY-MM-DD; default: today (China).
    #[arg(long)]
    date: Option<String>,
    /// A run of months paid (repeatable): REGION:FROM..TO:BASE, the monthly base in yuan, or
    /// REGION:FROM..TO:total=YUAN for the sum of the bases of a run inside one year, e.g.
    /// 341200:2010-01..2019-12:4000.
    #[arg(long = "period", value_name = "REGION:FROM..TO:BASE", value_parser = parse_period, required_unless_present = "request")]
    periods: Vec<Period>,
    /// The personal-account balance (with interest) the origin records, yuan.
    #[arg(long, value_parser = parse_yuan)]
    account: Option<Fen>,
    /// The employee medical-insurance account balance, yuan.
    #[arg(long, value_parser = parse_yuan)]
    medical_account: Option<Fen>,
    /// The move was approved by an organisation department or human-resources bureau (no
    /// temporary account, whatever the age).
    #[arg(long)]
    approved: bool,
    /// Months without employee medical cover between the two places (continuity, waiting period).
    #[arg(long)]
    medical_gap: Option<u32>,
    /// Apply a reform (repeatable).
    #[arg(long = "reform")]
    reforms: Vec<String>,
}

fn parse_yuan(s: &str) -> Result<Fen, String> {
    Fen::parse_yuan(s).map_err(|e| e.to_string())
}

fn parse_sex(s: &str) -> Result<Sex, String> {
    match s.trim().to_lowercase().as_str() {
        "male" | "m" | "男" => Ok(Sex::Male),
        "female" | "f" | "女" => Ok(Sex::Female),
        _ => Err(format!(
            "'{s}' is not a sex: use male (男) or female (女) / 性别只能是 male（男）或 female（女）"
        )),
    }
}

fn parse_period(s: &str) -> Result<Period, String> {
    let bad = || {
        format!(
            "'{s}' is not a period: write REGION:FROM..TO:BASE (e.g. 341200:2010-01..2019-12:4000) or REGION:FROM..TO:total=YUAN / 缴费段写成 地区:开始月..结束月:每月基数（元）"
        )
    };
    let mut parts = s.splitn(3, ':');
    let (Some(region), Some(range), Some(base)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let (from, to) = range.split_once("..").ok_or_else(bad)?;
    let from = YearMonth::parse(from.trim()).map_err(|e| e.to_string())?;
    let to = YearMonth::parse(to.trim()).map_err(|e| e.to_string())?;
    let (base_fen, total_base_fen) = match base.trim().strip_prefix("total=") {
        Some(t) => (None, Some(parse_yuan(t)?)),
        None => (Some(parse_yuan(base)?), None),
    };
    Ok(Period {
        region: region.trim().to_string(),
        from,
        to,
        base_fen,
        total_base_fen,
    })
}

fn request_of(a: PlanArgs, today: jiff::civil::Date) -> Result<TransferRequest, Error> {
    if let Some(path) = a.request {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::bad_input(
                format!("读不了请求文件 {}：{e}", path.display()),
                format!("cannot read the request file {}: {e}", path.display()),
            )
        })?;
        return serde_json::from_str(&text).map_err(|e| {
            Error::bad_input(
                format!("请求文件格式不对：{e}"),
                format!("malformed request file: {e}"),
            )
        });
    }
    Ok(TransferRequest {
        from: a.from.unwrap_or_default(),
        to: a.to.unwrap_or_default(),
        hukou: a.hukou.unwrap_or_default(),
        sex: a.sex.unwrap_or(Sex::Male),
        birth: a.birth.unwrap_or_default(),
        date: a.date.unwrap_or_else(|| today.to_string()),
        history: a.periods,
        personal_account_fen: a.account,
        medical_account_fen: a.medical_account,
        approved_transfer: a.approved,
        medical_gap_months: a.medical_gap,
        reforms: a.reforms,
    })
}

pub fn run(
    g: &crate::Global,
    policy: &Policy,
    today: YearMonth,
    today_date: jiff::civil::Date,
    command: TransferCommand,
) -> Result<(), Error> {
    match command {
        TransferCommand::Plan(a) => {
            let req = request_of(a, today_date)?;
            let r = transfer::transfer(policy, &req, today)?;
            crate::emit(g, &r, &r.trace, || render(&r, g.lang))
        }
        TransferCommand::Key(a) => key(g, a),
        TransferCommand::Verify(a) => verify(g, policy, a),
        TransferCommand::Voucher(a) => voucher(g, a),
    }
}

fn steps(o: &mut String, steps: &[Step], lang: Lang) {
    for (i, s) in steps.iter().enumerate() {
        let _ = writeln!(
            o,
            "    {}. {}：{}（{} {}，{} {}）",
            i + 1,
            s.who.pick(lang),
            s.what.pick(lang),
            s.working_days,
            lang.pick("个工作日", "working days"),
            lang.pick("最迟", "by"),
            s.deadline
        );
    }
}

/// The result for people: Chinese by default, English with `--lang en`.
pub fn render(r: &TransferResult, lang: Lang) -> String {
    let mut o = String::new();
    let name = |zh: &str, en: &str, code| format!("{}（{code}）", lang.pick(zh, en));
    let _ = writeln!(
        o,
        "{} {} → {}  {}",
        lang.pick(
            "养老、医疗保险转移",
            "Transfer of pension and medical insurance"
        ),
        name(&r.from.zh, &r.from.en, r.from.code),
        name(&r.to.zh, &r.to.en, r.to.code),
        r.date
    );
    line(
        &mut o,
        lang.pick("户籍所在地", "hukou place"),
        name(&r.hukou.zh, &r.hukou.en, r.hukou.code),
    );
    line(
        &mut o,
        lang.pick("年龄", "age"),
        format!("{} {}", r.age, lang.pick("周岁", "years")),
    );
    let p = &r.pension;
    match p.mode {
        Mode::Transfer => {
            line(
                &mut o,
                lang.pick("养老保险", "pension"),
                lang.pick("关系和资金一起转移", "relationship and money move"),
            );
            line(
                &mut o,
                lang.pick("统筹基金", "pooling fund"),
                format!(
                    "{}（{} {}）",
                    yuan(p.pooling_fen, lang),
                    p.months,
                    lang.pick("个月", "months")
                ),
            );
            let acct = p.personal_account_fen.map_or_else(
                || lang.pick("按转出地记录全额转移", "moves in full as recorded").to_string(),
                |a| yuan(a, lang),
            );
            line(&mut o, lang.pick("个人账户", "personal account"), acct);
            if let Some(t) = p.total_fen {
                line(&mut o, lang.pick("共转移", "total moved"), yuan(t, lang));
            }
            let _ = writeln!(o, "  {}", lang.pick("养老保险各步时限：", "pension steps:"));
            steps(&mut o, &p.steps, lang);
        }
        Mode::TemporaryAccount => line(
            &mut o,
            lang.pick("养老保险", "pension"),
            lang.pick(
                "关系留在原参保地，转入地建立临时缴费账户；现在不转钱",
                "relationship stays at the origin; a temporary account opens at the destination; no money moves now",
            ),
        ),
    }
    if let Some(a) = r.medical.account_fen {
        line(
            &mut o,
            lang.pick("医保个人账户", "medical account"),
            yuan(a, lang),
        );
    }
    match (r.medical.continuous, r.medical.max_waiting_months) {
        (Some(true), _) => line(
            &mut o,
            lang.pick("医保连续性", "medical continuity"),
            lang.pick(
                "补缴后视为连续参保，中断期间待遇可追溯",
                "continuous once paid back; the gap is covered retroactively",
            ),
        ),
        (Some(false), Some(w)) => line(
            &mut o,
            lang.pick("医保连续性", "medical continuity"),
            format!(
                "{} {w} {}",
                lang.pick(
                    "中断较长：转入地可设等待期，最长",
                    "a longer gap: the destination may set a waiting period of up to"
                ),
                lang.pick("个月", "months")
            ),
        ),
        _ => {}
    }
    let _ = writeln!(o, "  {}", lang.pick("医保各步时限：", "medical steps:"));
    steps(&mut o, &r.medical.steps, lang);
    for d in &r.duplicates {
        line(
            &mut o,
            lang.pick("重复缴费", "paid twice"),
            format!(
                "{}–{}，{} {}，{} {}，{} {}",
                d.from,
                d.to,
                d.months,
                lang.pick("个月", "months"),
                lang.pick("清理", "cleared in"),
                lang.pick(&d.cleared.zh, &d.cleared.en),
                lang.pick("退还", "refund"),
                d.refund_fen
                    .map_or_else(|| "—".to_string(), |f| yuan(f, lang))
            ),
        );
    }
    line(
        &mut o,
        lang.pick("累计缴费", "years paid"),
        format!(
            "{} {}",
            r.total_months,
            lang.pick(
                "个月（各地合并，重复月份只算一次）",
                "months (all places, each month once)"
            )
        ),
    );
    line(
        &mut o,
        lang.pick("待遇领取地", "place of claim"),
        name(&r.claim.place.zh, &r.claim.place.en, r.claim.place.code),
    );
    let _ = writeln!(o, "  {}", r.claim.why.pick(lang));
    notes(&mut o, &r.notes, lang);
    o
}
