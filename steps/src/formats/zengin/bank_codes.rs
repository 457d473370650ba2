//! Bank and branch codes (統一金融機関番号 / 店番号) from the committed zengin-code data set.
//!
//! The data file `steps/data/zengin/banks.tsv` is compiled into the binary, so validation
//! works offline and every build uses the same, reviewed data. Its kana names are
//! full-width as published; [`Bank::zengin_name`] converts them with our 全銀 converter.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use super::kana::{ZenginCharset, to_zengin_truncated};

const EMBEDDED: &str = include_str!("../../../data/zengin/banks.tsv");

/// Byte width of the bank and branch name fields in 全銀 records.
pub const NAME_BYTES: usize = 15;

/// A branch (店舗) of a bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    /// 3-digit branch code.
    pub code: String,
    /// Name in kanji/kana as published.
    pub name: String,
    /// Reading in full-width katakana as published.
    pub kana: String,
}

/// A financial institution with its branches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bank {
    /// 4-digit bank code.
    pub code: String,
    /// Name as published.
    pub name: String,
    /// Reading in full-width katakana as published.
    pub kana: String,
    branches: BTreeMap<String, Branch>,
}

impl Bank {
    /// The branch with this 3-digit code.
    pub fn branch(&self, code: &str) -> Option<&Branch> {
        self.branches.get(code)
    }

    /// All branches in code order.
    pub fn branches(&self) -> impl Iterator<Item = &Branch> {
        self.branches.values()
    }

    /// The bank name for a 全銀 name field (half-width, at most 15 bytes).
    pub fn zengin_name(&self) -> Option<String> {
        to_zengin_truncated(&self.kana, &ZenginCharset::standard(), NAME_BYTES).ok()
    }
}

impl Branch {
    /// The branch name for a 全銀 name field (half-width, at most 15 bytes).
    pub fn zengin_name(&self) -> Option<String> {
        to_zengin_truncated(&self.kana, &ZenginCharset::standard(), NAME_BYTES).ok()
    }
}

/// Why a bank/branch pair is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// No bank has this code.
    #[error("unknown bank code {0}")]
    UnknownBank(String),
    /// The bank has no branch with this code.
    #[error("bank {bank} has no branch {branch}")]
    UnknownBranch {
        /// The bank code.
        bank: String,
        /// The branch code.
        branch: String,
    },
}

/// A malformed line in a bank data file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bank data line {line}: {reason}")]
pub struct DataError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: &'static str,
}

/// The set of known banks and branches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankDirectory {
    banks: BTreeMap<String, Bank>,
    /// The first comment line of the data file (source and date).
    pub source: String,
}

static EMBEDDED_DIRECTORY: LazyLock<BankDirectory> = LazyLock::new(|| {
    // The embedded file is checked by a unit test, so a parse failure here means the
    // build was made from an edited data file that never ran the tests.
    BankDirectory::parse(EMBEDDED).expect("embedded steps/data/zengin/banks.tsv is valid")
});

impl BankDirectory {
    /// The data set compiled into nagare.
    pub fn embedded() -> &'static Self {
        &EMBEDDED_DIRECTORY
    }

    /// Parses the compact format: `#` comment lines, then for each bank a line
    /// `CODE4<TAB>name<TAB>kana` followed by its branches as `CODE3<TAB>name<TAB>kana`.
    pub fn parse(text: &str) -> Result<Self, DataError> {
        let mut banks = BTreeMap::new();
        let mut source = String::new();
        let mut current: Option<Bank> = None;
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            if let Some(comment) = line.strip_prefix('#') {
                if source.is_empty() {
                    comment.trim().clone_into(&mut source);
                }
                continue;
            }
            if line.is_empty() {
                continue;
            }
            let mut parts = line.split('\t');
            let (Some(code), Some(name), Some(kana), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(DataError {
                    line: line_no,
                    reason: "expected three tab-separated columns",
                });
            };
            if !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(DataError {
                    line: line_no,
                    reason: "code is not digits",
                });
            }
            match code.len() {
                4 => {
                    if let Some(bank) = current.take() {
                        banks.insert(bank.code.clone(), bank);
                    }
                    current = Some(Bank {
                        code: code.into(),
                        name: name.into(),
                        kana: kana.into(),
                        branches: BTreeMap::new(),
                    });
                }
                3 => {
                    let Some(bank) = current.as_mut() else {
                        return Err(DataError {
                            line: line_no,
                            reason: "branch before any bank",
                        });
                    };
                    bank.branches.insert(
                        code.into(),
                        Branch {
                            code: code.into(),
                            name: name.into(),
                            kana: kana.into(),
                        },
                    );
                }
                _ => {
                    return Err(DataError {
                        line: line_no,
                        reason: "code must have 4 (bank) or 3 (branch) digits",
                    });
                }
            }
        }
        if let Some(bank) = current.take() {
            banks.insert(bank.code.clone(), bank);
        }
        Ok(Self { banks, source })
    }

    /// The bank with this 4-digit code.
    pub fn bank(&self, code: &str) -> Option<&Bank> {
        self.banks.get(code)
    }

    /// All banks in code order.
    pub fn banks(&self) -> impl Iterator<Item = &Bank> {
        self.banks.values()
    }

    /// Checks that the bank exists and has the branch.
    pub fn validate(&self, bank: &str, branch: &str) -> Result<(&Bank, &Branch), CodeError> {
        let b = self
            .bank(bank)
            .ok_or_else(|| CodeError::UnknownBank(bank.into()))?;
        let br = b.branch(branch).ok_or_else(|| CodeError::UnknownBranch {
            bank: bank.into(),
            branch: branch.into(),
        })?;
        Ok((b, br))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_parses_and_has_known_entries() {
        let dir = BankDirectory::embedded();
        assert!(dir.source.contains("zengin-code"), "{}", dir.source);
        assert!(dir.banks().count() > 1000);
        let (bank, branch) = dir.validate("0001", "001").unwrap();
        assert_eq!(bank.zengin_name().unwrap(), "ﾐｽﾞﾎ");
        assert_eq!(branch.name, "東京営業部");
        assert_eq!(branch.zengin_name().unwrap(), "ﾄｳｷﾖｳ");
        assert_eq!(
            dir.validate("0001", "999"),
            Err(CodeError::UnknownBranch {
                bank: "0001".into(),
                branch: "999".into()
            })
        );
        assert_eq!(
            dir.validate("0002", "001"),
            Err(CodeError::UnknownBank("0002".into()))
        );
        // ゆうちょ銀行 uses its own three-digit 店番 in 全銀 files.
        assert!(dir.bank("9900").is_some());
    }

    #[test]
    fn every_published_name_converts_to_the_zengin_set() {
        let dir = BankDirectory::embedded();
        for bank in dir.banks() {
            assert!(bank.zengin_name().is_some(), "bank {}", bank.code);
            for br in bank.branches() {
                let name = br.zengin_name();
                assert!(name.is_some(), "branch {} {}", bank.code, br.code);
                assert!(name.unwrap().chars().count() <= NAME_BYTES);
            }
        }
    }

    #[test]
    fn malformed_data_is_refused_with_line() {
        assert_eq!(BankDirectory::parse("001\tx\tカ\n").unwrap_err().line, 1);
        assert_eq!(
            BankDirectory::parse("0001\tx\tカ\n12\ty\tキ\n")
                .unwrap_err()
                .line,
            2
        );
        assert!(BankDirectory::parse("0001\tx\n").is_err());
    }
}
