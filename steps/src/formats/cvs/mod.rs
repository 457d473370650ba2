//! コンビニ収納: the GS1-128 (AI 91) barcode printed on 納付書 and the payment result files
//! the 収納代行業者 sends back (速報 / 確報 / 取消).

pub mod barcode;
pub mod result;
