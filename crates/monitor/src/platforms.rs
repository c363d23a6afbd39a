//! The platforms the instance knows: credit code (GB 32100), name, sector and, for instant
//! delivery, which per-order amount of the injury cover it pays. A CSV file with the header
//! `credit_code,name,sector,delivery_tier`; `anxin monitor platforms FILE` registers it.

use std::collections::BTreeMap;
use std::path::Path;

use anxin_domain::CreditCode;
use anxin_policy::calc::injury::{DeliveryTier, Sector};

use crate::{Error, Result, internal};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub code: CreditCode,
    pub name: String,
    pub sector: Sector,
    pub tier: Option<DeliveryTier>,
}

/// Platforms by credit code.
#[derive(Clone, Debug, Default)]
pub struct Registry(pub BTreeMap<String, Platform>);

pub const HEADER: [&str; 4] = ["credit_code", "name", "sector", "delivery_tier"];

impl Registry {
    pub fn get(&self, code: &str) -> Option<&Platform> {
        self.0.get(code)
    }

    /// Reads and checks a registry file: every problem names its line; nothing half-read.
    pub fn read(path: &Path) -> Result<Registry> {
        let mut r = csv::ReaderBuilder::new()
            .flexible(false)
            .from_path(path)
            .map_err(|e| not_readable(path, e))?;
        let head = r.headers().map_err(|e| not_readable(path, e))?.clone();
        if head.iter().map(str::trim).collect::<Vec<_>>() != HEADER {
            return Err(Error::bad_input(
                format!("平台名单的表头应为 {}", HEADER.join(",")),
                format!("the platform list's header must be {}", HEADER.join(",")),
            ));
        }
        let mut out = BTreeMap::new();
        for (i, rec) in r.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| not_readable(path, e))?;
            let code = CreditCode::parse(rec.get(0).unwrap_or("")).map_err(|_| {
                Error::bad_input(
                    format!("平台名单第 {line} 行：统一社会信用代码无效"),
                    format!("platform list line {line}: the credit code is not valid"),
                )
            })?;
            let name = rec.get(1).unwrap_or("").trim().to_string();
            let sector = Sector::parse(rec.get(2).unwrap_or("")).ok_or_else(|| {
                let (zh, en) = Sector::allowed();
                Error::bad_input(
                    format!("平台名单第 {line} 行：行业只能是 {zh}"),
                    format!("platform list line {line}: the sector must be one of {en}"),
                )
            })?;
            let tier_text = rec.get(3).unwrap_or("").trim();
            let delivery = matches!(sector, Sector::InstantDelivery | Sector::FoodDelivery);
            let tier = if tier_text.is_empty() {
                delivery.then_some(DeliveryTier::Standard)
            } else if !delivery {
                return Err(Error::bad_input(
                    format!("平台名单第 {line} 行：缴费档次只适用于即时配送"),
                    format!(
                        "platform list line {line}: a delivery tier applies to instant delivery only"
                    ),
                ));
            } else {
                Some(DeliveryTier::parse(tier_text).ok_or_else(|| {
                    Error::bad_input(
                        format!("平台名单第 {line} 行：缴费档次只能是 standard 或 high"),
                        format!("platform list line {line}: the delivery tier is standard or high"),
                    )
                })?)
            };
            let key = code.as_str().to_string();
            if out.contains_key(&key) {
                return Err(Error::bad_input(
                    format!("平台名单第 {line} 行：信用代码重复"),
                    format!("platform list line {line}: the credit code is listed twice"),
                ));
            }
            out.insert(
                key,
                Platform {
                    code,
                    name,
                    sector,
                    tier,
                },
            );
        }
        Ok(Registry(out))
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| internal("建目录失败", "cannot make a directory", e))?;
        }
        let tmp = path.with_extension("csv.tmp");
        {
            let mut w = csv::Writer::from_path(&tmp)
                .map_err(|e| internal("写平台名单失败", "cannot write the platform list", e))?;
            let io =
                |e: csv::Error| internal("写平台名单失败", "cannot write the platform list", e);
            w.write_record(HEADER).map_err(io)?;
            for p in self.0.values() {
                let tier = match p.tier {
                    Some(DeliveryTier::High) => "high",
                    Some(DeliveryTier::Standard) => "standard",
                    None => "",
                };
                w.write_record([p.code.as_str(), &p.name, p.sector.name(), tier])
                    .map_err(io)?;
            }
            w.flush()
                .map_err(|e| internal("写平台名单失败", "cannot write the platform list", e))?;
        }
        std::fs::rename(&tmp, path)
            .map_err(|e| internal("写平台名单失败", "cannot write the platform list", e))
    }

    /// The registered platforms of a data directory (none registered: an error saying how).
    pub fn of_data_dir(data_dir: &Path) -> Result<Registry> {
        let path = crate::layout::platforms_file(data_dir);
        if !path.exists() {
            return Err(Error::new(
                anxin_policy::ErrorKind::NotFound,
                "还没有登记平台：先运行 anxin monitor platforms 文件",
                "no platform is registered: run anxin monitor platforms FILE first",
            ));
        }
        Registry::read(&path)
    }
}

fn not_readable(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::bad_input(
        format!("读不了平台名单 {}：{e}", path.display()),
        format!("cannot read the platform list {}: {e}", path.display()),
    )
}
