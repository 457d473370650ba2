//! The 広域連合 file layouts: one small declaration per kind. Field-by-field
//! documentation is in `docs/formats/union.md`; keep the two in step.

use crate::formats::csv_layout::{Column, ColumnKind, CsvLayout};

use ColumnKind::{Amount, Code, Date, Digits, Text};

/// 全国地方公共団体コード with its check digit.
const MUNICIPALITY: Column = Column::req(
    "municipality_code",
    "市町村コード",
    Digits { min: 6, max: 6 },
);
const ADDRESSEE: Column = Column::req("addressee_no", "宛名番号", Digits { min: 1, max: 15 });
const INSURED: Column = Column::req("insured_no", "被保険者番号", Digits { min: 8, max: 8 });
const FISCAL_YEAR: Column = Column::req("fiscal_year", "年度", Digits { min: 4, max: 4 });
const INSTALLMENT: Column = Column::req("installment", "期別", Digits { min: 1, max: 2 });
const NAME: Column = Column::req("name", "氏名", Text { max_chars: 50 });
const NAME_KANA: Column = Column::req("name_kana", "カナ氏名", Text { max_chars: 50 });
const BIRTH: Column = Column::req("birth_date", "生年月日", Date);
const SEX: Column = Column::req("sex", "性別", Code(&[("1", "男"), ("2", "女")]));
const POSTAL: Column = Column::opt("postal_code", "郵便番号", Digits { min: 7, max: 7 });
const ADDRESS: Column = Column::req("address", "住所", Text { max_chars: 100 });
const FLAG: &[(&str, &str)] = &[("0", "該当しない"), ("1", "該当")];

/// 住民基本台帳情報 (municipality → union): resident register changes of people 75+
/// and those about to reach 75.
pub const RESIDENT_REGISTRY: CsvLayout = CsvLayout {
    kind: "union-resident-registry",
    title: "住民基本台帳情報",
    direction: "municipal_office → union",
    columns: &[
        MUNICIPALITY,
        ADDRESSEE,
        Column::req(
            "change_reason",
            "異動事由",
            Code(&[
                ("01", "転入"),
                ("02", "転出"),
                ("03", "転居"),
                ("04", "死亡"),
                ("05", "氏名変更"),
                ("06", "世帯変更"),
                ("07", "職権記載"),
                ("08", "職権消除"),
                ("99", "その他"),
            ]),
        ),
        Column::req("change_date", "異動日", Date),
        Column::req("notified_on", "届出日", Date),
        NAME,
        NAME_KANA,
        BIRTH,
        SEX,
        POSTAL,
        ADDRESS,
        Column::req("household_no", "世帯番号", Digits { min: 1, max: 15 }),
        Column::opt("relationship", "続柄", Text { max_chars: 20 }),
    ],
    key: &["addressee_no", "change_date", "change_reason"],
};

/// 住登外情報 (municipality → union): people we administer who are not in our register.
pub const UNREGISTERED_RESIDENT: CsvLayout = CsvLayout {
    kind: "union-unregistered-resident",
    title: "住登外情報",
    direction: "municipal_office → union",
    columns: &[
        MUNICIPALITY,
        ADDRESSEE,
        NAME,
        NAME_KANA,
        BIRTH,
        SEX,
        POSTAL,
        ADDRESS,
        Column::req("registered_on", "登録日", Date),
        Column::req(
            "reason",
            "登録事由",
            Code(&[("1", "住所地特例"), ("2", "転出後"), ("9", "その他")]),
        ),
    ],
    key: &["addressee_no"],
};

/// 所得・課税情報 (municipality → union): income used for 所得割 and 軽減.
pub const INCOME_TAX_INFO: CsvLayout = CsvLayout {
    kind: "union-income-tax-info",
    title: "所得・課税情報",
    direction: "municipal_office → union",
    columns: &[
        MUNICIPALITY,
        ADDRESSEE,
        FISCAL_YEAR,
        Column::req("total_income_yen", "合計所得金額", Amount { signed: true }),
        Column::req("gross_income_yen", "総所得金額等", Amount { signed: true }),
        Column::req(
            "public_pension_income_yen",
            "公的年金等収入額",
            Amount { signed: false },
        ),
        Column::req("salary_income_yen", "給与収入額", Amount { signed: false }),
        Column::req(
            "tax_status",
            "課税区分",
            Code(&[("1", "課税"), ("2", "非課税"), ("3", "未申告")]),
        ),
        Column::opt("corrected_on", "更正日", Date),
    ],
    key: &["addressee_no", "fiscal_year"],
};

/// 期割結果情報 (union → municipality): the installments of each person's premium.
pub const INSTALLMENT_SPLIT: CsvLayout = CsvLayout {
    kind: "union-installment-split",
    title: "期割結果情報",
    direction: "union → municipal_office",
    columns: &[
        MUNICIPALITY,
        INSURED,
        ADDRESSEE,
        FISCAL_YEAR,
        INSTALLMENT,
        Column::req(
            "collection_method",
            "徴収方法",
            Code(&[("1", "特別徴収"), ("2", "普通徴収")]),
        ),
        Column::req("due_date", "納期限", Date),
        Column::req("amount_yen", "期割額", Amount { signed: false }),
    ],
    key: &[
        "insured_no",
        "fiscal_year",
        "installment",
        "collection_method",
    ],
};

/// 収納情報 (municipality → union): payments received.
pub const RECEIPT: CsvLayout = CsvLayout {
    kind: "union-receipt",
    title: "収納情報",
    direction: "municipal_office → union",
    columns: &[
        MUNICIPALITY,
        INSURED,
        FISCAL_YEAR,
        INSTALLMENT,
        Column::req("received_on", "収納日", Date),
        Column::req("amount_yen", "収納額", Amount { signed: true }),
        Column::req(
            "channel",
            "収納区分",
            Code(&[
                ("1", "窓口"),
                ("2", "口座振替"),
                ("3", "コンビニ"),
                ("4", "特別徴収"),
                ("5", "充当"),
                ("9", "その他"),
            ]),
        ),
        Column::req("receipt_no", "収納番号", Digits { min: 1, max: 20 }),
    ],
    key: &["receipt_no"],
};

/// 滞納者情報 (municipality → union): unpaid installments.
pub const DELINQUENT: CsvLayout = CsvLayout {
    kind: "union-delinquent",
    title: "滞納者情報",
    direction: "municipal_office → union",
    columns: &[
        MUNICIPALITY,
        INSURED,
        ADDRESSEE,
        FISCAL_YEAR,
        INSTALLMENT,
        Column::req("due_date", "納期限", Date),
        Column::req("unpaid_yen", "未納額", Amount { signed: false }),
        Column::opt("demand_date", "督促日", Date),
    ],
    key: &["insured_no", "fiscal_year", "installment"],
};

/// 支援措置対象者情報 (municipality → union): DV/stalking victims whose address must not
/// be disclosed. The file itself is personal data of the most sensitive kind.
pub const PROTECTED_PERSON: CsvLayout = CsvLayout {
    kind: "union-protected-person",
    title: "支援措置対象者情報",
    direction: "municipal_office → union",
    columns: &[
        MUNICIPALITY,
        ADDRESSEE,
        Column::req("start_date", "支援措置開始日", Date),
        Column::opt("end_date", "支援措置終了予定日", Date),
        Column::req(
            "measure",
            "措置区分",
            Code(&[
                ("1", "DV"),
                ("2", "ストーカー行為等"),
                ("3", "児童虐待等"),
                ("9", "その他"),
            ]),
        ),
        Column::req("nondisclosure_flag", "不開示該当フラグ", Code(FLAG)),
    ],
    key: &["addressee_no", "start_date"],
};

/// 被保険者情報 (union → municipality): eligibility (資格) of each insured person.
pub const INSURED_INFO: CsvLayout = CsvLayout {
    kind: "union-insured",
    title: "被保険者情報",
    direction: "union → municipal_office",
    columns: &[
        MUNICIPALITY,
        INSURED,
        ADDRESSEE,
        Column::req("acquired_on", "資格取得日", Date),
        Column::req(
            "acquisition_reason",
            "資格取得事由",
            Code(&[
                ("1", "年齢到達"),
                ("2", "転入"),
                ("3", "障害認定"),
                ("4", "生活保護廃止"),
                ("9", "その他"),
            ]),
        ),
        Column::opt("lost_on", "資格喪失日", Date),
        Column::opt(
            "loss_reason",
            "資格喪失事由",
            Code(&[
                ("1", "死亡"),
                ("2", "転出"),
                ("3", "生活保護開始"),
                ("4", "障害認定撤回"),
                ("9", "その他"),
            ]),
        ),
        Column::req("address_exception", "住所地特例者", Code(FLAG)),
    ],
    key: &["insured_no", "acquired_on"],
};

/// 保険料情報 (union → municipality): the assessed annual premium.
pub const PREMIUM: CsvLayout = CsvLayout {
    kind: "union-premium",
    title: "保険料情報",
    direction: "union → municipal_office",
    columns: &[
        MUNICIPALITY,
        INSURED,
        ADDRESSEE,
        FISCAL_YEAR,
        Column::req(
            "assessment_kind",
            "賦課区分",
            Code(&[("1", "暫定賦課"), ("2", "確定賦課"), ("3", "異動賦課")]),
        ),
        Column::req("decided_on", "賦課決定日", Date),
        Column::req("per_capita_yen", "均等割額", Amount { signed: false }),
        Column::req("income_based_yen", "所得割額", Amount { signed: false }),
        Column::opt("reduction_code", "軽減区分", Digits { min: 1, max: 2 }),
        Column::req("annual_premium_yen", "年間保険料", Amount { signed: false }),
    ],
    key: &["insured_no", "fiscal_year", "assessment_kind", "decided_on"],
};

/// Every kind, in the order the issue lists them.
pub const ALL: &[&CsvLayout] = &[
    &RESIDENT_REGISTRY,
    &UNREGISTERED_RESIDENT,
    &INCOME_TAX_INFO,
    &INSTALLMENT_SPLIT,
    &RECEIPT,
    &DELINQUENT,
    &PROTECTED_PERSON,
    &INSURED_INFO,
    &PREMIUM,
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn layouts_are_consistent() {
        let mut kinds = HashSet::new();
        for l in ALL {
            assert!(kinds.insert(l.kind), "duplicate kind {}", l.kind);
            assert!(l.kind.starts_with("union-"));
            let mut names = HashSet::new();
            for c in l.columns {
                assert!(
                    names.insert(c.name),
                    "{}: duplicate column {}",
                    l.kind,
                    c.name
                );
            }
            for k in l.key {
                assert!(
                    names.contains(k),
                    "{}: key column {k} not in layout",
                    l.kind
                );
            }
        }
    }
}
