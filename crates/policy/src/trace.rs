//! Explanations: every calculation records its steps, each with the parameters it used, and
//! the words a worker may not know. Rendered in plain Chinese (default) or English.

use serde::Serialize;

use crate::scope::ParamRef;

pub use anxin_domain::text::Lang;

#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub zh: String,
    pub en: String,
    pub params: Vec<ParamRef>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Trace {
    pub steps: Vec<Step>,
    /// Glossary ids of the words used; see [`GLOSSARY`].
    pub terms: Vec<&'static str>,
}

impl Trace {
    pub fn step(&mut self, zh: impl Into<String>, en: impl Into<String>, params: Vec<ParamRef>) {
        self.steps.push(Step {
            zh: zh.into(),
            en: en.into(),
            params,
        });
    }

    pub fn term(&mut self, id: &'static str) {
        if !self.terms.contains(&id) {
            self.terms.push(id);
        }
    }

    /// Plain text: numbered steps, each parameter with value and source, then the words.
    pub fn render(&self, lang: Lang) -> String {
        lang.punctuate(self.render_raw(lang, false))
    }

    /// [`Trace::render`] for a page a worker reads: each parameter's region by its name
    /// alone ("杭州市", not "杭州市 330100"); the codes stay in the CLI's and files' text.
    pub fn render_named(&self, lang: Lang) -> String {
        lang.punctuate(self.render_raw(lang, true))
    }

    fn render_raw(&self, lang: Lang, names_only: bool) -> String {
        let mut out = String::new();
        out.push_str(lang.pick("怎么算出来的：\n", "How this was worked out:\n"));
        for (i, s) in self.steps.iter().enumerate() {
            out.push_str(&format!("{:>2}. {}\n", i + 1, lang.pick(&s.zh, &s.en)));
            for p in &s.params {
                let label = lang.pick(p.label_zh, p.label_en);
                let conf = match lang {
                    Lang::Zh => p.source.confidence.label_zh(),
                    Lang::En => p.source.confidence.label_en(),
                };
                let reform = p
                    .reform
                    .as_ref()
                    .map(|r| lang.pick("，改革方案 ", ", reform ").to_string() + r)
                    .unwrap_or_default();
                out.push_str(&format!(
                    "      · {label}：{}（{}{reform}，{} {}；{}：{}，{conf}）\n",
                    lang.pick(&p.value, &p.value_en),
                    if names_only {
                        p.region_name(lang)
                    } else {
                        lang.pick(&p.region, &p.region_en)
                    },
                    lang.pick("自", "from"),
                    p.from,
                    lang.pick("依据", "source"),
                    p.source.doc,
                ));
                if let Some(url) = &p.source.url {
                    out.push_str(&format!("        {url}\n"));
                }
            }
        }
        if !self.terms.is_empty() {
            out.push_str(lang.pick("\n名词解释：\n", "\nWords used:\n"));
            for id in &self.terms {
                if let Some(t) = GLOSSARY.iter().find(|t| t.id == *id) {
                    match lang {
                        Lang::Zh => out.push_str(&format!("  · {}：{}\n", t.zh, t.zh_text)),
                        Lang::En => {
                            out.push_str(&format!("  · {} ({}): {}\n", t.en, t.zh, t.en_text))
                        }
                    }
                }
            }
        }
        out
    }
}

pub struct Term {
    pub id: &'static str,
    pub zh: &'static str,
    pub zh_text: &'static str,
    pub en: &'static str,
    pub en_text: &'static str,
}

/// Words explained in plain language, for a reader with little schooling.
pub const GLOSSARY: &[Term] = &[
    Term {
        id: "injury_cover",
        zh: "职业伤害保障",
        zh_text: "给外卖、快递、网约车、货运等平台上接单干活的人上的“工伤保险”。平台每接一单就替你交一点钱，你自己不用交；送单、跑车时受了伤，可以申请医疗费和补助。",
        en: "occupational-injury cover",
        en_text: "work-injury insurance for people who take orders on platforms (delivery, ride-hailing, freight). The platform pays a little for every order and the worker pays nothing; an injury while carrying out an order may be claimed.",
    },
    Term {
        id: "base",
        zh: "缴费基数",
        zh_text: "算社保费用的那个“工资数”。灵活就业的人可以在当地规定的最低数和最高数之间自己选，选得越高，每月交得越多，将来领得也越多。",
        en: "contribution base",
        en_text: "the wage figure your contribution is worked out from. A flexible worker picks it between the local lowest and highest figures; a higher base costs more now and pays more later.",
    },
    Term {
        id: "tier",
        zh: "缴费档次",
        zh_text: "缴费基数相当于社会平均工资的百分之几，例如 60% 档就是按平均工资的六成来交，是最低的一档；300% 是最高档。",
        en: "base tier",
        en_text: "the base as a share of the average wage: the 60 % tier is the lowest, 300 % the highest.",
    },
    Term {
        id: "pooling",
        zh: "统筹基金",
        zh_text: "大家一起交、一起用的那部分钱，用来给所有退休的人发基础养老金。这部分不记在你个人名下，但你缴费的年数越多，将来从里面领得越多。",
        en: "pooling fund",
        en_text: "the shared part of the money, which pays everyone's basic pension; not in your name, but the more years you pay, the more you draw from it.",
    },
    Term {
        id: "account",
        zh: "个人账户",
        zh_text: "记在你自己名下的那部分钱，每年按记账利率加利息，退休后按“计发月数”分月发给你；人去世后余额可以继承。",
        en: "personal account",
        en_text: "the part kept in your own name, earning yearly interest; after retirement it is paid out over the payout months, and any balance can be inherited.",
    },
    Term {
        id: "payout_months",
        zh: "计发月数",
        zh_text: "退休时个人账户里的钱要分成多少个月来发。60 岁退休是 139 个月，退休越晚，分的月数越少，每月发得越多。",
        en: "payout months",
        en_text: "the number of months your personal account is divided by at retirement: 139 at age 60; retiring later means fewer months and more each month.",
    },
    Term {
        id: "calc_base",
        zh: "计发基数",
        zh_text: "算基础养老金时用的当地上一年平均工资，每年公布一次。",
        en: "pension calculation base",
        en_text: "last year's local average wage, published yearly, used to work out the basic pension.",
    },
    Term {
        id: "indexed_wage",
        zh: "指数化月平均缴费工资",
        zh_text: "把你每年选的缴费档次平均起来（例如一直按 60% 交，平均就是 0.6），再乘以计发基数。它代表你这一辈子平均按多高的工资交了费。",
        en: "indexed average wage",
        en_text: "the average of your yearly base tiers (always 60 % gives 0.6) times the calculation base: the wage level you paid on over your working life.",
    },
    Term {
        id: "basic_pension",
        zh: "基础养老金",
        zh_text: "从统筹基金里发的养老金：每缴费满一年，多领计发基数和你自己指数化工资平均数的 1%。所以“长缴多得”——交得越久，领得越多。",
        en: "basic pension",
        en_text: "the pension paid from the pooling fund: 1 % of the average of the calculation base and your indexed wage for each year paid — the longer you pay, the more you get.",
    },
    Term {
        id: "replacement",
        zh: "替代率",
        zh_text: "退休后每月养老金相当于平均工资的百分之几，越高说明退休后收入掉得越少。",
        en: "replacement rate",
        en_text: "your monthly pension as a share of the average wage: the higher, the smaller the drop in income at retirement.",
    },
    Term {
        id: "min_years",
        zh: "最低缴费年限",
        zh_text: "要按月领职工养老金，累计至少要交满的年数。现在是 15 年，从 2030 年起每年增加半年，到 2039 年为 20 年。不够的可以延长缴费或一次性补足。",
        en: "minimum contribution period",
        en_text: "the years you must have paid to draw a monthly employee pension: 15 now, rising by half a year each year from 2030 to 20 in 2039; short people may keep paying or pay a lump sum.",
    },
    Term {
        id: "resident_pension",
        zh: "城乡居民养老保险",
        zh_text: "不看工资、按年交固定档次（每年一两百元到几千元）的养老保险，政府补一点，领的也少，一般每月一两百元。",
        en: "urban-rural resident pension",
        en_text: "a pension paid yearly at a fixed tier (a hundred to a few thousand yuan a year) with a small public top-up; it pays little, often one or two hundred yuan a month.",
    },
    Term {
        id: "burden",
        zh: "缴费负担",
        zh_text: "每月自己要交的钱占每月收入的比例。国际劳工组织认为超过 10% 就偏重了。",
        en: "contribution burden",
        en_text: "what you pay each month as a share of your monthly income; the ILO sees more than 10 % as too heavy.",
    },
    Term {
        id: "school",
        zh: "随迁子女入学社保条件",
        zh_text: "一些城市审核随迁子女入学时，要看父母在本市交社保的月数：有的要求连续交满若干个月（含申请当月），有的看累计月数；因生育、生病、失业等原因短期断缴，有的地方有宽限。",
        en: "school-admission insurance condition",
        en_text: "some cities check, when a migrant child applies for school, how many months a parent has paid social insurance there: some want N continuous months including the application month, some count cumulative months; a short gap for childbirth, illness or unemployment may be forgiven.",
    },
    Term {
        id: "backpay",
        zh: "补缴",
        zh_text: "把以前没交的月份补交上。很多地方不允许灵活就业人员事后补缴，能补的也有时间限制，可能还要交滞纳金。",
        en: "back-payment",
        en_text: "paying for months you missed. Many places forbid it for flexible workers; where allowed there is a time limit and maybe a late fee.",
    },
    Term {
        id: "waiting",
        zh: "等待期",
        zh_text: "医保断了再交上以后，要等一段时间才能报销看病的钱。按时连续参保就没有等待期。",
        en: "waiting period",
        en_text: "the time after re-joining medical insurance before it pays for treatment; none if you join on time every year.",
    },
    Term {
        id: "super_deduction",
        zh: "加计扣除",
        zh_text: "平台每替从业人员交 1 元养老保险费，算企业所得税时可以按 1.5 元从利润里扣掉，少交一些税。",
        en: "super deduction",
        en_text: "for each yuan a platform pays into its workers' pensions it may deduct 1.5 yuan from taxable profit, paying less tax.",
    },
    Term {
        id: "refund",
        zh: "即征即退",
        zh_text: "税先照常交，但符合条件的马上退回，不用等到年底汇算。",
        en: "immediate refund",
        en_text: "tax is paid as usual but the qualifying part is refunded at once instead of at the annual settlement.",
    },
    Term {
        id: "voucher",
        zh: "社保券",
        zh_text: "为孩子上学第一次参保、收入又低的人发的缴费补贴；要连续交满一个学年才发，中途停交就不发，防止“交几个月就停”。",
        en: "social-insurance voucher",
        en_text: "a contribution subsidy for low-income first-time enrollees whose child starts school; paid only after a full school year without a break, so it cannot be taken and dropped.",
    },
    Term {
        id: "frequency",
        zh: "缴费方式",
        zh_text: "按月、按季、按年交，或者收入高的月份多交、收入低的月份少交，一年交的总数不变。",
        en: "payment frequency",
        en_text: "paying monthly, quarterly or yearly, or more in good months and less in lean ones, with the same total for the year.",
    },
    Term {
        id: "pooling_transfer",
        zh: "统筹基金转移",
        zh_text: "换省参保时，除了个人账户，原参保地还要把单位缴费的一部分转过去：1998年起每年实际缴费工资的12%，不满一年按实际月数，不算利息。",
        en: "pooling-fund transfer",
        en_text: "when you move to another province, besides your personal account the old place sends part of the employer contributions: 12% of each year's actual contribution base since 1998, part years by months, without interest.",
    },
    Term {
        id: "temporary_account",
        zh: "临时缴费账户",
        zh_text: "男满50岁、女满40岁到不是户籍所在省的地方参保，养老保险关系留在原参保地，新参保地另开一个临时账户记下单位和个人的全部缴费，以后再归集。",
        en: "temporary contribution account",
        en_text: "a man of 50 or more, or a woman of 40 or more, who starts paying in a province that is not their hukou's keeps the pension relationship at the old place; the new place records every contribution in a temporary account, collected later.",
    },
    Term {
        id: "claim_place",
        zh: "待遇领取地",
        zh_text: "退休时在哪里办领取养老金的手续：关系在户籍地就在户籍地；否则在关系所在地交满10年就在那里；不满10年就回上一个交满10年的地方；哪里都不满10年就回户籍地。",
        en: "place of claim",
        en_text: "where you apply for your pension at retirement: the hukou place if the relationship is there; otherwise where the relationship is, if you paid 10 years there; otherwise the last place where you paid 10 years; if nowhere reaches 10 years, the hukou place.",
    },
    Term {
        id: "working_day",
        zh: "工作日",
        zh_text: "按国务院办公厅每年公布的节假日安排算：法定假日不算，调休上班的周六周日算；办理时限从申请的第二天起数。",
        en: "working day",
        en_text: "by the State Council's yearly holiday notice: public holidays do not count, weekend days worked instead do; a time limit counts from the day after the request.",
    },
];
