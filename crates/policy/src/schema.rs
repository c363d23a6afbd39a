//! The closed list of parameters anxin knows. A parameter file may only set keys listed here,
//! with the unit listed here: a typo or a wrong unit is an error naming the file and line,
//! never a silently ignored value (the complaint users make most of OpenFisca-style engines).

/// What shape a parameter's value has, and so how it is written in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Yuan, written as an integer (`4812`) or a string with at most two decimals (`"962.40"`).
    Money,
    /// A percentage, written as an integer (`20`) or a string (`"9.5"`); kept as basis points.
    Rate,
    /// An exact fraction, written as a string `"2/3"` or an integer.
    Ratio,
    /// A whole number (months, years, days, a count).
    Int,
    Bool,
    /// One word from a closed list.
    Enum(&'static [&'static str]),
    /// Several words from a closed list.
    Set(&'static [&'static str]),
    /// Integer → integer pairs with strictly increasing keys, e.g. age → payout months.
    Table,
    /// A list of amounts in yuan, strictly increasing (e.g. resident-pension tiers).
    MoneyList,
    /// Income bands: `[[lower bound in yuan, percent], …]`, lower bounds strictly increasing
    /// from 0. A band applies from its lower bound (inclusive) to the next one (exclusive).
    Bands,
}

pub struct KeySpec {
    pub key: &'static str,
    pub kind: Kind,
    pub unit: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

pub const ROUNDINGS: &[&str] = &[
    "half-up-fen",
    "half-up-jiao",
    "half-up-yuan",
    "truncate-fen",
];
/// At which level places are told apart when counting years per place (待遇领取地).
pub const PLACE_LEVELS: &[&str] = &["province", "city"];
pub const FREQUENCIES: &[&str] = &["monthly", "quarterly", "yearly", "peak-trough"];
pub const BACKPAY_BASES: &[&str] = &["current", "original"];
pub const SCHOOL_RULES: &[&str] = &["continuous", "cumulative-first"];
pub const INSURANCES: &[&str] = &["pension", "medical", "unemployment", "injury", "maternity"];
/// Sectors of the occupational-injury pilot (人社部发〔2021〕110号, 〔2025〕24号).
pub const INJURY_SECTORS: &[&str] = &[
    "ride-hailing",
    "food-delivery",
    "instant-delivery",
    "same-city-freight",
];

/// A parameter key the schema knows. Calculators name parameters only through the constants
/// in [`param`] (`param::FLEX_PENSION_ACCOUNT_RATE`), so a misspelt key is a compile error, not
/// a "not found" at run time. Outside this module a `Key` can only be copied, never made up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(&'static str);

impl Key {
    /// The key as written in the parameter files.
    pub const fn as_str(self) -> &'static str {
        self.0
    }

    /// The key of that name, if the schema has one (for keys built from data, such as a
    /// school proof kind).
    pub fn named(name: &str) -> Option<Key> {
        spec(name).map(|s| Key(s.key))
    }
}

impl KeySpec {
    /// This entry's key, typed.
    pub const fn id(&self) -> Key {
        Key(self.key)
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

macro_rules! keys {
    ($( $id:ident = $key:literal : $kind:expr, $unit:literal, $zh:literal, $en:literal; )*) => {
        pub const KEYS: &[KeySpec] = &[ $( KeySpec { key: $key, kind: $kind, unit: $unit, zh: $zh, en: $en } ),* ];

        /// Every parameter key of [`KEYS`] as a typed constant, named after the key
        /// (`flex.pension.account_rate` → `FLEX_PENSION_ACCOUNT_RATE`).
        pub mod param {
            use super::Key;
            $( #[doc = $en] pub const $id: Key = Key($key); )*
        }
    };
}

keys! {
    // ---- school admission of migrant children (SPEC §S): the review rule as data
    SCHOOL_PERMIT_REQUIRED = "school.permit_required": Kind::Bool, "bool", "随迁子女入学是否要求居住证", "whether a residence permit is required for school admission";
    SCHOOL_INSURANCES = "school.insurances": Kind::Set(INSURANCES), "set", "入学审核认可的险种", "insurance types that count in the school review";
    SCHOOL_RULE = "school.rule": Kind::Enum(SCHOOL_RULES), "rule", "审核方式：连续缴费，或累计为主、连续为辅", "review rule: continuous months, or cumulative first and continuous second";
    SCHOOL_CONTINUOUS_MONTHS = "school.continuous_months": Kind::Int, "months", "要求连续缴费的月数（含申请当月）", "continuous months required, including the application month";
    SCHOOL_CUMULATIVE_MONTHS = "school.cumulative_months": Kind::Int, "months", "回溯期内要求累计缴费的月数（0 表示不看累计）", "cumulative months required within the look-back window (0: not used)";
    SCHOOL_LOOKBACK_MONTHS = "school.lookback_months": Kind::Int, "months", "累计缴费的回溯期", "look-back window for cumulative months";
    SCHOOL_GRACE_CHILDBIRTH = "school.grace.childbirth": Kind::Int, "months", "因生育断缴、有证明时可宽限的最长月数", "longest gap forgiven for childbirth, with evidence";
    SCHOOL_GRACE_CARE = "school.grace.care": Kind::Int, "months", "因照护家人断缴、有证明时可宽限的最长月数", "longest gap forgiven for caring for family, with evidence";
    SCHOOL_GRACE_ILLNESS = "school.grace.illness": Kind::Int, "months", "因疾病断缴、有证明时可宽限的最长月数", "longest gap forgiven for illness, with evidence";
    SCHOOL_GRACE_UNEMPLOYMENT = "school.grace.unemployment": Kind::Int, "months", "因失业断缴、有证明时可宽限的最长月数", "longest gap forgiven for unemployment, with evidence";
    SCHOOL_GRACE_PLATFORM_RULE = "school.grace.platform_rule": Kind::Int, "months", "因平台规则调整断缴、有证明时可宽限的最长月数", "longest gap forgiven for a platform's rule change, with evidence";
    SCHOOL_POINTS_PER_MONTH = "school.points.per_month": Kind::Int, "points", "新市民积分：本市每缴费一个月得几分", "new-citizen points per month paid in the city";
    SCHOOL_POINTS_MAX_MONTHS = "school.points.max_months": Kind::Int, "months", "计分的缴费月数上限", "most months of contributions that earn points";
    SCHOOL_POINTS_PER_PERMIT_YEAR = "school.points.per_permit_year": Kind::Int, "points", "持居住证每满一年得几分", "points per full year of residence permit";
    SCHOOL_POINTS_MAX_PERMIT_YEARS = "school.points.max_permit_years": Kind::Int, "years", "计分的居住证年数上限", "most permit years that earn points";
    SCHOOL_POINTS_EXTRA_MEDICAL = "school.points.extra.medical": Kind::Int, "points", "医疗保险每缴一个月另加几分", "extra points per month of medical insurance paid";
    SCHOOL_POINTS_EXTRA_UNEMPLOYMENT = "school.points.extra.unemployment": Kind::Int, "points", "失业保险每缴一个月另加几分", "extra points per month of unemployment insurance paid";
    SCHOOL_POINTS_EXTRA_INJURY = "school.points.extra.injury": Kind::Int, "points", "工伤保险每缴一个月另加几分", "extra points per month of injury insurance paid";
    SCHOOL_POINTS_EXTRA_MATERNITY = "school.points.extra.maternity": Kind::Int, "points", "生育保险每缴一个月另加几分", "extra points per month of maternity insurance paid";
    SCHOOL_ENROLLMENT_WINDOW_MONTHS = "school.enrollment_window_months": Kind::Int, "months", "申请前多少个月内首次参保或重新参保算“因入学参保”", "enrolment (first or renewed) within this many months before a school application counts as school-driven";
    SCHOOL_REENROLLMENT_GAP_MONTHS = "school.reenrollment_gap_months": Kind::Int, "months", "断缴多少个月后再缴算重新参保", "a break of at least this many months makes the next payment a renewed enrolment";
    SCHOOL_CHILD_AGE_MAX = "school.child_age_max": Kind::Int, "years", "申请入学的子女最大年龄（周岁，按申请月计）", "oldest a child may be to apply (full years at the application month)";
    SCHOOL_PROOF_BUSINESS_LICENCE_MONTHS = "school.proof.business_licence.months": Kind::Int, "months", "营业执照最多可抵多少个月的缴费条件（从申请月往前数；0 表示不认可）", "most months of the contribution condition a business licence stands for, counted back from the application month (0: not accepted)";
    SCHOOL_PROOF_BUSINESS_LICENCE_MIN_MONTHS = "school.proof.business_licence.min_months": Kind::Int, "months", "营业执照须证明的最短月数（材料上的起始月到申请月）", "fewest months a business licence must show (from the month on the document to the application month)";
    SCHOOL_PROOF_LABOUR_CONTRACT_MONTHS = "school.proof.labour_contract.months": Kind::Int, "months", "劳动合同最多可抵多少个月的缴费条件（从申请月往前数；0 表示不认可）", "most months of the contribution condition a labour contract stands for, counted back from the application month (0: not accepted)";
    SCHOOL_PROOF_LABOUR_CONTRACT_MIN_MONTHS = "school.proof.labour_contract.min_months": Kind::Int, "months", "劳动合同须证明的最短月数（材料上的起始月到申请月）", "fewest months a labour contract must show (from the month on the document to the application month)";
    SCHOOL_PROOF_TAX_RECORDS_MONTHS = "school.proof.tax_records.months": Kind::Int, "months", "纳税记录最多可抵多少个月的缴费条件（从申请月往前数；0 表示不认可）", "most months of the contribution condition tax records stands for, counted back from the application month (0: not accepted)";
    SCHOOL_PROOF_TAX_RECORDS_MIN_MONTHS = "school.proof.tax_records.min_months": Kind::Int, "months", "纳税记录须证明的最短月数（材料上的起始月到申请月）", "fewest months tax records must show (from the month on the document to the application month)";
    SCHOOL_PROOF_PLATFORM_ORDERS_MONTHS = "school.proof.platform_orders.months": Kind::Int, "months", "平台接单记录最多可抵多少个月的缴费条件（从申请月往前数；0 表示不认可）", "most months of the contribution condition platform order records stands for, counted back from the application month (0: not accepted)";
    SCHOOL_PROOF_PLATFORM_ORDERS_MIN_MONTHS = "school.proof.platform_orders.min_months": Kind::Int, "months", "平台接单记录须证明的最短月数（材料上的起始月到申请月）", "fewest months platform order records must show (from the month on the document to the application month)";
    SCHOOL_PROOF_COMMUNITY_RESIDENCE_MONTHS = "school.proof.community_residence.months": Kind::Int, "months", "社区居住证明最多可抵多少个月的缴费条件（从申请月往前数；0 表示不认可）", "most months of the contribution condition a community residence proof stands for, counted back from the application month (0: not accepted)";
    SCHOOL_PROOF_COMMUNITY_RESIDENCE_MIN_MONTHS = "school.proof.community_residence.min_months": Kind::Int, "months", "社区居住证明须证明的最短月数（材料上的起始月到申请月）", "fewest months a community residence proof must show (from the month on the document to the application month)";
    SCHOOL_HARDSHIP_CHANNEL = "school.hardship_channel": Kind::Bool, "bool", "困难家庭兜底：有居住证和监护关系的困难家庭不因缴费不足被拒", "hardship channel: a family in hardship with a permit and guardianship is not refused for lack of contributions";
    // ---- contributions of flexible workers to the urban-employee pension
    FLEX_BASE_FLOOR = "flex.base.floor": Kind::Money, "yuan/month", "灵活就业人员缴费基数下限（可选的最低缴费基数）", "lowest contribution base a flexible worker may choose";
    FLEX_BASE_CEILING = "flex.base.ceiling": Kind::Money, "yuan/month", "缴费基数上限（可选的最高缴费基数）", "highest contribution base a flexible worker may choose";
    FLEX_BASE_AVG_WAGE = "flex.base.avg_wage": Kind::Money, "yuan/month", "用来计算缴费档次的社会平均工资", "average wage against which base tiers (60–300 %) are measured";
    FLEX_BASE_TIER_MIN = "flex.base.tier_min": Kind::Rate, "percent", "最低缴费档次", "lowest base tier";
    FLEX_BASE_TIER_MAX = "flex.base.tier_max": Kind::Rate, "percent", "最高缴费档次", "highest base tier";
    FLEX_BASE_INCOME_BASED = "flex.base.income_based": Kind::Bool, "bool", "是否允许按实际收入确定缴费基数", "whether the base may follow actual income";
    FLEX_PENSION_RATE = "flex.pension.rate": Kind::Rate, "percent", "养老保险缴费比例", "pension contribution rate";
    FLEX_PENSION_ACCOUNT_RATE = "flex.pension.account_rate": Kind::Rate, "percent", "记入个人账户的比例", "share of the base credited to the personal account";
    FLEX_PENSION_RATE_BANDS = "flex.pension.rate_bands": Kind::Bands, "yuan/month→percent", "按月收入分档的缴费比例", "contribution rate by monthly income band";
    FLEX_FREQUENCIES = "flex.frequencies": Kind::Set(FREQUENCIES), "set", "允许的缴费方式（按月、按季、按年、旺季多缴淡季少缴）", "payment frequencies allowed";
    FLEX_PEAK_TROUGH_MIN_SHARE = "flex.peak_trough.min_share": Kind::Rate, "percent", "淡季每月至少要缴的比例（相对于平均每月应缴）", "least a trough month must pay, as a share of the monthly average";
    FLEX_MEDICAL_RATE = "flex.medical.rate": Kind::Rate, "percent", "灵活就业人员职工医保缴费比例", "employee medical insurance rate for flexible workers";
    FLEX_MEDICAL_PERMIT_HOLDERS_ELIGIBLE = "flex.medical.permit_holders_eligible": Kind::Bool, "bool", "持居住证的非本地户籍灵活就业人员能否参加职工医保", "whether non-hukou flexible workers with a residence permit may join employee medical insurance";
    ROUNDING_CONTRIBUTION = "rounding.contribution": Kind::Enum(ROUNDINGS), "rounding", "缴费金额的取整方法", "rounding of contribution amounts";
    ROUNDING_BASE = "rounding.base": Kind::Enum(ROUNDINGS), "rounding", "缴费基数的取整方法", "rounding of contribution bases";
    ROUNDING_TAX = "rounding.tax": Kind::Enum(ROUNDINGS), "rounding", "税前扣除额和少交税额的取整方法", "rounding of tax deductions and tax savings";
    ROUNDING_SUBSIDY = "rounding.subsidy": Kind::Enum(ROUNDINGS), "rounding", "补贴、社保券和税前转入金额的取整方法", "rounding of subsidies, vouchers and pre-tax transfers";
    ROUNDING_PENSION_BASIC = "rounding.pension.basic": Kind::Enum(ROUNDINGS), "rounding", "基础养老金的取整方法", "rounding of the basic pension";
    ROUNDING_PENSION_ACCOUNT = "rounding.pension.account": Kind::Enum(ROUNDINGS), "rounding", "个人账户养老金（账户储存额 ÷ 计发月数）的取整方法", "rounding of the personal-account pension (balance ÷ payout months)";
    ROUNDING_PENSION_PROJECTION = "rounding.pension.projection": Kind::Enum(ROUNDINGS), "rounding", "预测中个人账户计息、缴费和计发基数按工资增长调整的取整方法", "rounding of crediting interest and of wage indexation in a projection";
    ROUNDING_RESIDENT_PENSION_ACCOUNT = "rounding.resident_pension.account": Kind::Enum(ROUNDINGS), "rounding", "城乡居民养老保险个人账户养老金（账户 ÷ 计发月数）的取整方法", "rounding of the resident personal-account pension (account ÷ divisor)";
    BURDEN_ILO_LINE = "burden.ilo_line": Kind::Rate, "percent", "国际劳工组织建议的缴费负担上限", "burden line suggested by the ILO";
    // ---- back-payment
    FLEX_BACKPAY_WINDOW_MONTHS = "flex.backpay.window_months": Kind::Int, "months", "可以补缴的最长月数（0 表示不允许补缴）", "how many months back a missed month may still be paid (0 = not allowed)";
    FLEX_BACKPAY_BASE_RULE = "flex.backpay.base_rule": Kind::Enum(BACKPAY_BASES), "rule", "补缴时按哪一年的缴费基数", "which year's base a back-payment uses";
    FLEX_BACKPAY_LATE_FEE_DAILY = "flex.backpay.late_fee_daily": Kind::Rate, "percent/day", "滞纳金日费率", "late fee per day";
    FLEX_BACKPAY_LATE_FEE_APPLIES = "flex.backpay.late_fee_applies": Kind::Bool, "bool", "灵活就业人员补缴是否收滞纳金", "whether a flexible worker's back-payment bears the late fee";
    // ---- subsidies that exist today
    SUBSIDY_DIFFICULTY_SHARE = "subsidy.difficulty.share": Kind::Ratio, "ratio", "就业困难人员社保补贴占实际缴费的比例", "social-insurance subsidy for people with employment difficulties, as a share of what they pay";
    SUBSIDY_DIFFICULTY_MAX_MONTHS = "subsidy.difficulty.max_months": Kind::Int, "months", "就业困难人员社保补贴最长期限", "longest period of that subsidy";
    SUBSIDY_DIFFICULTY_CAP = "subsidy.difficulty.cap": Kind::Money, "yuan/month", "就业困难人员社保补贴每月上限（0 表示无上限）", "monthly cap of that subsidy (0 = none)";
    // ---- reform: provincial subsidy under an income line, school-entry voucher, savings account
    SUBSIDY_PROVINCIAL_BANDS = "subsidy.provincial.bands": Kind::Bands, "yuan/month→percent", "省级财政按月收入分档补贴实际缴费的比例", "provincial subsidy share of the actual contribution by income band";
    VOUCHER_BANDS = "voucher.bands": Kind::Bands, "yuan/month→percent", "入学社保券：按月收入分档补贴比例", "school-entry voucher share by income band";
    VOUCHER_HARDSHIP_EXTRA = "voucher.hardship_extra": Kind::Rate, "percent", "家庭困难再加的补贴比例", "extra share for household hardship";
    VOUCHER_CAP = "voucher.cap": Kind::Money, "yuan/month", "社保券每月最多金额", "monthly cap of the voucher";
    VOUCHER_VESTING_MONTHS = "voucher.vesting_months": Kind::Int, "months", "连续缴满多少个月后发放社保券", "continuous months after which the voucher is paid";
    VOUCHER_MIN_OWN_SHARE = "voucher.min_own_share": Kind::Rate, "percent", "补贴后本人至少还要承担的比例（防套利）", "least share the worker still pays after all subsidies (anti-arbitrage)";
    SAVINGS_MAX_SHARE = "savings.max_share": Kind::Rate, "percent", "偶然收入可税前转入个人养老储蓄账户的最高比例", "largest share of occasional income moved pre-tax to the savings account";
    // ---- urban-employee pension benefits
    PENSION_CALC_BASE = "pension.calc_base": Kind::Money, "yuan/month", "计发基数（算养老金用的上年度社会平均工资）", "pension calculation base (last year's average wage)";
    PENSION_BASIC_RATE_PER_YEAR = "pension.basic_rate_per_year": Kind::Rate, "percent", "每缴费一年，基础养老金增加的比例", "basic pension per year of contributions";
    PENSION_PAYOUT_MONTHS = "pension.payout_months": Kind::Table, "age→months", "计发月数表（退休年龄→个人账户分多少个月发）", "payout months by retirement age";
    PENSION_PAYOUT_MONTHS_INTERPOLATE = "pension.payout_months.interpolate": Kind::Bool, "bool", "计发月数是否按月细化（插值）", "whether payout months are interpolated by month";
    PENSION_MIN_MONTHS = "pension.min_months": Kind::Table, "year→months", "按月领取养老金所需的最低缴费月数（按退休年份）", "minimum contribution months for a monthly pension, by retirement year";
    PENSION_CREDITING_RATE = "pension.crediting_rate": Kind::Table, "year→bps", "个人账户记账利率（年份→万分之几）", "personal-account crediting rate by year (basis points)";
    PENSION_CREDITING_RATE_FUTURE = "pension.crediting_rate.future": Kind::Rate, "percent", "今后年份的记账利率假设", "crediting rate assumed for future years";
    PROJECTION_WAGE_GROWTH = "projection.wage_growth": Kind::Rate, "percent", "今后平均工资增长的假设（0 表示按今天的钱算）", "assumed future wage growth (0 = in today's money)";
    RETIREMENT_MALE_ORIGINAL_AGE = "retirement.male.original_age": Kind::Int, "years", "男职工原法定退休年龄", "men's original statutory retirement age";
    RETIREMENT_MALE_FIRST_COHORT = "retirement.male.first_cohort": Kind::Int, "yyyymm", "男职工延迟退休起始出生月份", "first birth month affected for men";
    RETIREMENT_MALE_STEP_MONTHS = "retirement.male.step_months": Kind::Int, "months", "男职工：出生每晚几个月，退休推迟1个月", "men: birth months per month of delay";
    RETIREMENT_MALE_MAX_DELAY_MONTHS = "retirement.male.max_delay_months": Kind::Int, "months", "男职工最多推迟的月数", "men: largest delay";
    RETIREMENT_FEMALE55_ORIGINAL_AGE = "retirement.female55.original_age": Kind::Int, "years", "原55岁退休女职工的原法定退休年龄", "original age of women retiring at 55";
    RETIREMENT_FEMALE55_FIRST_COHORT = "retirement.female55.first_cohort": Kind::Int, "yyyymm", "原55岁退休女职工延迟起始出生月份", "first birth month affected (women, 55)";
    RETIREMENT_FEMALE55_STEP_MONTHS = "retirement.female55.step_months": Kind::Int, "months", "原55岁女职工：出生每晚几个月推迟1个月", "women (55): birth months per month of delay";
    RETIREMENT_FEMALE55_MAX_DELAY_MONTHS = "retirement.female55.max_delay_months": Kind::Int, "months", "原55岁女职工最多推迟的月数", "women (55): largest delay";
    RETIREMENT_FEMALE50_ORIGINAL_AGE = "retirement.female50.original_age": Kind::Int, "years", "原50岁退休女职工的原法定退休年龄", "original age of women retiring at 50";
    RETIREMENT_FEMALE50_FIRST_COHORT = "retirement.female50.first_cohort": Kind::Int, "yyyymm", "原50岁退休女职工延迟起始出生月份", "first birth month affected (women, 50)";
    RETIREMENT_FEMALE50_STEP_MONTHS = "retirement.female50.step_months": Kind::Int, "months", "原50岁女职工：出生每晚几个月推迟1个月", "women (50): birth months per month of delay";
    RETIREMENT_FEMALE50_MAX_DELAY_MONTHS = "retirement.female50.max_delay_months": Kind::Int, "months", "原50岁女职工最多推迟的月数", "women (50): largest delay";
    // ---- urban-rural resident pension
    RESIDENT_PENSION_TIERS = "resident_pension.tiers": Kind::MoneyList, "yuan/year", "城乡居民养老保险缴费档次（每年交多少）", "resident pension contribution tiers";
    RESIDENT_PENSION_SUBSIDY_LOW = "resident_pension.subsidy_low": Kind::Money, "yuan/year", "最低档的政府缴费补贴", "government top-up for the lowest tier";
    RESIDENT_PENSION_SUBSIDY_HIGH = "resident_pension.subsidy_high": Kind::Money, "yuan/year", "较高档次的政府缴费补贴", "government top-up for the higher tiers";
    RESIDENT_PENSION_SUBSIDY_HIGH_FROM = "resident_pension.subsidy_high_from": Kind::Money, "yuan/year", "从哪一档起按较高补贴", "tier from which the higher top-up applies";
    RESIDENT_PENSION_BASIC = "resident_pension.basic": Kind::Money, "yuan/month", "城乡居民基础养老金", "resident basic pension";
    RESIDENT_PENSION_DIVISOR = "resident_pension.divisor": Kind::Int, "months", "居民养老保险个人账户计发月数", "resident personal-account payout months";
    RESIDENT_PENSION_MIN_MONTHS = "resident_pension.min_months": Kind::Int, "months", "领取居民养老金所需最低缴费月数", "minimum months for the resident pension";
    RESIDENT_PENSION_AGE = "resident_pension.age": Kind::Int, "years", "领取居民养老金的年龄", "age the resident pension starts";
    // ---- resident medical insurance
    RESIDENT_MEDICAL_INDIVIDUAL = "resident_medical.individual": Kind::Money, "yuan/year", "城乡居民医保个人每年缴费", "resident medical insurance: individual contribution per year";
    RESIDENT_MEDICAL_SUBSIDY = "resident_medical.subsidy": Kind::Money, "yuan/year", "城乡居民医保财政每人每年补助", "resident medical insurance: public subsidy per person per year";
    RESIDENT_MEDICAL_PERMIT_EQUAL_SUBSIDY = "resident_medical.permit_equal_subsidy": Kind::Bool, "bool", "持居住证参保与本地居民享受同样的财政补助", "residence-permit holders get the same subsidy as locals";
    RESIDENT_MEDICAL_WAITING_FIXED_MONTHS = "resident_medical.waiting_fixed_months": Kind::Int, "months", "未按时或未连续参保的固定等待期", "fixed waiting period after a late or broken enrolment";
    RESIDENT_MEDICAL_WAITING_PER_GAP_YEAR = "resident_medical.waiting_per_gap_year": Kind::Int, "months", "每多断保一年增加的等待期", "waiting months added per extra year without cover";
    RESIDENT_MEDICAL_WAITING_CUT_PER_YEAR = "resident_medical.waiting_cut_per_year": Kind::Int, "months", "重新参保后每连续参保一年减少的等待期", "waiting months removed per year of continuous cover since";
    // ---- platforms
    PLATFORM_CIT_RATE = "platform.cit_rate": Kind::Rate, "percent", "企业所得税税率", "corporate income tax rate";
    PLATFORM_DEDUCTION_MULTIPLIER = "platform.deduction_multiplier": Kind::Ratio, "ratio", "平台为从业人员缴的养老保险费在税前按几倍扣除", "multiple of pension contributions deducted before tax";
    PLATFORM_REFUND_REVENUE_LIMIT = "platform.refund_revenue_limit": Kind::Money, "yuan/year", "年营业收入低于此数的平台享受即征即退（0 表示没有）", "annual revenue under which the tax benefit is refunded at once (0 = none)";
    // ---- occupational-injury cover of platform workers (职业伤害保障, SPEC §C6)
    INJURY_PILOT = "injury.pilot": Kind::Bool, "bool", "本地是否实行新就业形态人员职业伤害保障（试点）", "whether the occupational-injury cover of platform workers (the pilot) runs here";
    INJURY_SECTORS = "injury.sectors": Kind::Set(INJURY_SECTORS), "set", "职业伤害保障覆盖的行业", "sectors the occupational-injury cover applies to";
    INJURY_PER_ORDER_RIDE_HAILING = "injury.per_order.ride_hailing": Kind::Money, "yuan/order", "出行行业每单缴费", "per-order contribution, ride-hailing";
    INJURY_PER_ORDER_INSTANT_DELIVERY = "injury.per_order.instant_delivery": Kind::Money, "yuan/order", "即时配送行业每单缴费（标准档，新纳入平台）", "per-order contribution, instant delivery (standard tier, platforms new to the pilot)";
    INJURY_PER_ORDER_INSTANT_DELIVERY_HIGH = "injury.per_order.instant_delivery_high": Kind::Money, "yuan/order", "即时配送行业每单缴费（较高档，按平台支缴率）", "per-order contribution, instant delivery (higher tier, by the platform's payout ratio)";
    INJURY_PER_ORDER_SAME_CITY_FREIGHT = "injury.per_order.same_city_freight": Kind::Money, "yuan/order", "同城货运行业每单缴费", "per-order contribution, same-city freight";
    // ---- fiscal sharing of the resident medical subsidy (SPEC §A2)
    FISCAL_CENTRAL_SHARE = "fiscal.central_share": Kind::Rate, "percent", "城乡居民医保财政补助中中央财政承担的比例（按地区财力分档）", "central budget's share of the resident medical subsidy (by the region's fiscal tier)";
    FISCAL_TIER = "fiscal.tier": Kind::Int, "tier", "中央与地方共同财政事权分担档次（1–5 档，第 1 档中央承担最多）", "tier of central–local expenditure sharing (1–5; tier 1 gets the largest central share)";
    ROUNDING_FISCAL = "rounding.fiscal": Kind::Enum(ROUNDINGS), "rounding", "每人财政补助中中央部分的取整方法", "rounding of the central part of the subsidy per resident";
    // ---- inter-region transfer of pension and medical insurance (SPEC §W2; 国办发〔2009〕66号, 医保办发〔2021〕43号)
    TRANSFER_PENSION_POOLING_RATE = "transfer.pension.pooling_rate": Kind::Rate, "percent", "跨省转移时统筹基金按本人各年度实际缴费工资的比例转移", "share of each year's actual contribution base moved as pooling fund on a transfer between provinces";
    TRANSFER_PENSION_POOLING_FROM_YEAR = "transfer.pension.pooling_from_year": Kind::Int, "year", "统筹基金从哪一年的缴费起计算转移", "first year whose contribution base moves pooling fund";
    TRANSFER_PENSION_ACCOUNT_RATE = "transfer.pension.account_rate": Kind::Rate, "percent", "记入个人账户的比例（清理重复缴费时按它算退还本人的个人部分）", "share of the base credited to the personal account (the personal part refunded for a duplicate month)";
    TRANSFER_PENSION_TEMP_ACCOUNT_AGE_MALE = "transfer.pension.temp_account_age.male": Kind::Int, "years", "男性年满多少周岁到非户籍省份参保时建立临时缴费账户", "age from which a man moving to a province not his hukou's gets a temporary account";
    TRANSFER_PENSION_TEMP_ACCOUNT_AGE_FEMALE = "transfer.pension.temp_account_age.female": Kind::Int, "years", "女性年满多少周岁到非户籍省份参保时建立临时缴费账户", "age from which a woman moving to a province not her hukou's gets a temporary account";
    TRANSFER_PENSION_CLAIM_MIN_YEARS = "transfer.pension.claim_min_years": Kind::Int, "years", "在非户籍地领取养老金所需的当地累计缴费年限", "years paid at a place other than the hukou place needed to claim the pension there";
    TRANSFER_PENSION_PLACE_LEVEL = "transfer.pension.place_level": Kind::Enum(PLACE_LEVELS), "level", "按哪一级区分参保地（省或市）来累计各地缴费年限", "level at which places are told apart when years are counted per place";
    TRANSFER_PENSION_DAYS_ACCEPT = "transfer.pension.days.accept": Kind::Int, "working days", "新参保地审核转移申请并发出同意接收函的时限", "time for the new place to review the request and send the letter of acceptance";
    TRANSFER_PENSION_DAYS_SEND = "transfer.pension.days.send": Kind::Int, "working days", "原参保地接到同意接收函后办好转出手续（信息表和资金）的时限", "time for the old place, from the letter, to send the information sheet and the money";
    TRANSFER_PENSION_DAYS_CLOSE = "transfer.pension.days.close": Kind::Int, "working days", "新参保地收到关系和资金后办结的时限", "time for the new place, from receiving the record and money, to close";
    TRANSFER_MEDICAL_DAYS_OUT = "transfer.medical.days.out": Kind::Int, "working days", "医保关系转出地完成转出的时限", "time for the old place to transfer medical insurance out";
    TRANSFER_MEDICAL_DAYS_IN = "transfer.medical.days.in": Kind::Int, "working days", "医保关系转入地收到信息表后完成转入的时限", "time for the new place, from the information sheet, to transfer medical insurance in";
    TRANSFER_MEDICAL_CONTINUITY_GAP_MONTHS = "transfer.medical.continuity_gap_months": Kind::Int, "months", "职工医保中断不超过几个月、按规定补缴的，视为连续参保", "longest gap in employee medical cover that keeps continuity when paid back";
    TRANSFER_MEDICAL_MAX_WAITING_MONTHS = "transfer.medical.max_waiting_months": Kind::Int, "months", "中断超过上述月数时，转入地可设的待遇等待期上限", "longest waiting period the destination may set after a longer gap";
    ROUNDING_TRANSFER = "rounding.transfer": Kind::Enum(ROUNDINGS), "rounding", "转移金额（统筹基金、退还的个人部分）的取整方法", "rounding of transfer amounts (pooling fund, refunded personal part)";
    // ---- case clocks (issue 15; cn-workflows.md §3): each a length, the unit in the key's name
    CASE_COMPLAINT_ACCEPT_WORKING_DAYS = "case.complaint.accept_working_days": Kind::Int, "working days", "劳动保障监察机构接到投诉后决定是否受理的时限", "time for the labour inspectorate to accept (or refuse) a complaint once received";
    CASE_COMPLAINT_FINISH_WORKING_DAYS = "case.complaint.finish_working_days": Kind::Int, "working days", "立案后调查办结的时限", "time to finish the investigation from the day the case is opened";
    CASE_COMPLAINT_EXTEND_WORKING_DAYS = "case.complaint.extend_working_days": Kind::Int, "working days", "情况复杂、经负责人批准可延长的时限", "extension of the investigation for a complex case, with the head's approval";
    CASE_COMPLAINT_MEDIATION_DAYS = "case.complaint.mediation_days": Kind::Int, "days", "平台争议调解自受理之日起结束的时限（日历日）", "time for a platform-dispute mediation to end, from its acceptance (calendar days)";
    CASE_COMPLAINT_MEDIATION_EXTEND_DAYS = "case.complaint.mediation_extend_days": Kind::Int, "days", "双方同意时调解可延长的最长时限（日历日）", "longest extension of a mediation both sides agree to (calendar days)";
    CASE_COMPLAINT_RESPONSE_HOURS = "case.complaint.response_hours": Kind::Int, "hours", "投诉提交后首次响应的时限（小时）", "time for a first response to a complaint once filed (hours)";
    CASE_BACKPAY_DECIDE_WORKING_DAYS = "case.backpay.decide_working_days": Kind::Int, "working days", "经办机构审核补缴申请的时限", "time for the social insurance office to decide a back-payment request";
    CASE_SUPERVISOR_WORKING_DAYS = "case.supervisor.working_days": Kind::Int, "working days", "逾期案件转交主管督办后，主管办结的时限", "time a supervisor has to settle an overdue case escalated to them";
    CASE_ENROLMENT_DECIDE_WORKING_DAYS = "case.enrolment.decide_working_days": Kind::Int, "working days", "经办机构审核无雇主参保申请的时限", "time for the social insurance office to decide an enrolment request without an employer";
    CASE_AGREEMENT_RESPOND_DAYS = "case.agreement.respond_days": Kind::Int, "days", "一方提出集体协商后，另一方书面回应的时限（日历日）", "time for the other side to answer a proposal to bargain collectively, in writing (calendar days)";
    CASE_AGREEMENT_SUBMIT_DAYS = "case.agreement.submit_days": Kind::Int, "days", "双方签字后，用人单位（平台）将集体合同报送劳动保障行政部门的时限（日历日）", "time for the employer (the platform) to send the signed agreement to the labour administration (calendar days)";
    CASE_AGREEMENT_REVIEW_DAYS = "case.agreement.review_days": Kind::Int, "days", "劳动保障行政部门收到集体合同后提出异议的时限，逾期未提出即行生效（日历日）", "time for the labour administration to object once it receives an agreement; without an objection it takes effect (calendar days)";
    CASE_AGREEMENT_MAX_TERM_MONTHS = "case.agreement.max_term_months": Kind::Int, "months", "集体合同的最长期限（月）", "longest term of a collective agreement (months)";
    // ---- evidence attached to a case (issue 15): limits on what a worker uploads
    CASE_EVIDENCE_MAX_FILE_BYTES = "case.evidence.max_file_bytes": Kind::Int, "bytes", "一份证据文件的最大字节数", "largest evidence file accepted (bytes)";
    CASE_EVIDENCE_MAX_FILES = "case.evidence.max_files": Kind::Int, "files", "一个案件最多可附的证据文件数", "most evidence files one case takes";
    CASE_EVIDENCE_MAX_TOTAL_BYTES = "case.evidence.max_total_bytes": Kind::Int, "bytes", "一个案件全部证据文件合计的最大字节数", "largest total of one case's evidence files (bytes)";
    // ---- the inbox (SPEC §M4): when a worker is told what, from their own record
    INBOX_REMINDER_DAYS_BEFORE = "inbox.reminder.days_before": Kind::Int, "days", "缴费提醒：每月缴费截止（当月最后一天）前几天提醒本月还没缴", "payment reminder: days before the month's due date (its last day) that a worker who has not paid is reminded";
    INBOX_LAPSE_MISSED_MONTHS = "inbox.lapse.missed_months": Kind::Int, "months", "断缴提醒：上次缴费之后连续几个月没缴就提醒", "lapse warning: consecutive months without payment after the last paid month that trigger a warning";
    INBOX_BACKPAY_WARN_MONTHS = "inbox.backpay.warn_months": Kind::Int, "months", "补缴期限提醒：某个没缴的月份离补缴期限还剩几个月时提醒", "back-payment window warning: months left before a missed month can no longer be paid";
    // ---- platform monitoring (issue 16; SPEC §M2, §M3, §W6): anxin monitor run
    MONITOR_ACTIVE_MIN_ORDERS = "monitor.active_min_orders": Kind::Int, "orders", "一个月在平台上至少接多少单才算在该平台“活跃从业”", "orders in a month from which a worker counts as active on a platform";
    MONITOR_LAPSE_MONTHS = "monitor.lapse_months": Kind::Int, "months", "在平台上干活、最后缴费月距本月至少几个月算“断缴（停止缴费）”", "months since the last paid month from which a worker still working counts as having stopped paying";
    MONITOR_RISK_MISSED_MONTHS = "monitor.risk.missed_months": Kind::Int, "months", "最后缴费月距本月至少几个月（但未到断缴）算“有断缴风险”", "months since the last paid month (short of stopping) from which a worker is at risk";
    MONITOR_RISK_SCHOOL_MONTHS = "monitor.risk.school_months": Kind::Int, "months", "因子女入学参保的人，入学审核后多少个月内（一学年）在干活仍算“有断缴风险”", "months after a school review during which a worker whose enrolment the review drove counts as at risk of stopping";
    MONITOR_RISK_INCOME_DROP = "monitor.risk.income_drop": Kind::Rate, "percent", "本月平台收入比前几个月的月平均少了多少算“收入骤降、有断缴风险”", "drop of this month's platform income against the average of the months before that puts a paying worker at risk";
    MONITOR_RISK_INCOME_WINDOW_MONTHS = "monitor.risk.income_window_months": Kind::Int, "months", "收入骤降和之前几个月的平均收入比较", "months before this one whose average income a drop is measured against";
    MONITOR_COMPLIANCE_MIN_COVERAGE = "monitor.compliance.min_coverage": Kind::Rate, "percent", "平台参保率（参保人数占活跃从业人数）低于多少算不合规", "coverage rate (insured among active workers) under which a platform does not comply";
    MONITOR_COMPLIANCE_YEARS = "monitor.compliance.years": Kind::Int, "years", "连续几年参保率不达标列入联合惩戒名单", "consecutive years under the coverage rate that put a platform on the joint-sanction list";
    MONITOR_GRADE_A_COVERAGE = "monitor.grade.a_coverage": Kind::Rate, "percent", "信用等级 A：参保率至少多少", "credit grade A: the least coverage rate";
    UNION_PLATFORM_DUES_RATE = "union.platform_dues_rate": Kind::Rate, "percent", "平台按注册活跃劳动者缴纳工会会费：占这些劳动者当月平台收入的比例", "union dues a platform pays for its registered active workers, as a share of their income from it that month";
    UNION_DUES_RATE = "union.dues_rate": Kind::Rate, "percent", "工会经费：按工资总额的比例", "union dues as a share of the payroll";
}

pub fn spec(key: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.key == key)
}

/// The closest known key, to suggest in an "unknown key" error.
pub fn closest(key: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|k| (edit_distance(k.key, key), k.key))
        .min()
        .filter(|(d, _)| *d <= 4)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
