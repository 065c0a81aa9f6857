//! Terminal QR codes of client configs (for the WireGuard mobile apps).

use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;

use crate::VpnError;
use crate::render::ConfigText;

/// The config as a QR code drawn with Unicode half blocks (dark on light, with a quiet zone).
pub fn terminal_qr(config: &ConfigText) -> Result<String, VpnError> {
    let code = QrCode::new(config.expose().as_bytes()).map_err(|e| VpnError::InvalidField {
        field: "--qr".into(),
        value: format!("{} bytes", config.expose().len()),
        fix: format!("the config does not fit in a QR code ({e}); use the config file instead"),
    })?;
    Ok(code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}
