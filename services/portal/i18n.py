"""The portal's words in Dutch and English: one dict per language, chosen from the contact's language."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo

LANGUAGES = ("nl", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "app": "Akkoord",
        "my_tasks": "My tasks",
        "open_actions": "Open actions",
        "no_open_actions": "Nothing is waiting for you right now.",
        "no_tasks": "You have no tasks yet.",
        "phase": "Phase",
        "sign": "Sign",
        "sign_document": "Sign document",
        "decline": "Decline",
        "view_task": "View task",
        "expires": "Please respond before",
        "timeline": "Timeline",
        "timeline_empty": "Nothing has happened yet.",
        "timeline_unavailable": "The timeline cannot be shown right now. Please try again later.",
        "your_actions": "Your actions",
        "status_open": "Waiting for you",
        "status_completed": "Signed",
        "status_declined": "Declined",
        "status_cancelled": "Cancelled",
        "status_expired": "Expired",
        "sign_title": "Sign: {title}",
        "fields": "Please fill in",
        "required": "required",
        "signature": "Your signature",
        "typed_name": "Type your full name as your signature",
        "typed_hint": "Your name is turned into a signature image.",
        "upload_signature": "Or upload a picture of your signature",
        "upload_hint": "PNG or JPEG, at most 512 KB. An uploaded picture is used instead of the typed name.",
        "consent_legend": "Consent",
        "submit_sign": "Sign now",
        "decline_title": "Decline: {title}",
        "reason": "Why do you decline?",
        "submit_decline": "Decline",
        "back": "Back to my tasks",
        "signed_ok": "Thank you. Your signature has been recorded.",
        "declined_ok": "You declined. We have let the team know.",
        "errors_title": "Please correct the following:",
        "language": "Language",
        "switch": "Switch",
        "logout": "Sign out",
        "document": "Document",
        "document_changed": "This document changed, please review it again.",
        "consent_changed": "The consent text changed, please read it again.",
        "download_pdf": "Download the document (PDF)",
        "page_of": "Page {n} of {total}",
        "page_text": "Text of page {n}",
        "document_unavailable": "The document cannot be shown right now, so it cannot be signed yet. Please try "
                                "again later.",
        "link_invalid_title": "This link does not work",
        "link_invalid": "The link is incomplete or not valid. Please use the newest link from your email.",
        "link_expired_title": "This link has expired",
        "link_expired": "For your security links work for a limited time. Ask the sender for a new link.",
        "link_used_title": "This link was already used",
        "link_used": "Each link works once. If you closed the portal, ask the sender for a new link.",
        "signed_out_title": "You are not signed in",
        "signed_out": "Please open the link from your email to continue.",
        "not_found": "This page does not exist or is not for you.",
        "not_open": "This action is no longer open.",
        "already_signed": "This has already been signed.",
        "too_many": "Too many attempts. Please wait a minute and try again.",
        "field_required": "Please fill in: {label}",
        "field_too_long": "{label} is too long",
        "signature_required": "Please type your name, or upload a picture of your signature.",
        "consent_required": "Please tick the box to agree.",
        "signature_upload_invalid": "This picture cannot be used: upload a PNG or JPEG of at most 512 KB that "
                                    "shows your signature.",
        "reason_required": "Please tell us why you decline.",
        "verify_title": "Verify a signed PDF",
        "verify_intro": "Upload a PDF signed through Akkoord to check that its seal is valid and that it has not "
                        "been changed since.",
        "verify_file": "Signed PDF",
        "verify_submit": "Verify",
        "verify_ok": "Valid: this PDF carries Akkoord's seal and has not been changed since it was sealed.",
        "verify_bad": "Not valid: this PDF does not carry a valid, untouched Akkoord seal.",
        "verify_sealed_at": "Sealed at",
        "verify_sealed_by": "Sealed by",
        "verify_not_pdf": "Please choose a PDF file of at most 20 MB.",
        "verify_unavailable": "Verification is not available right now. Please try again later.",
        "otp_title": "Confirm it is you",
        "otp_intro": "Before you sign, we e-mail you a code. Enter it here.",
        "otp_send": "E-mail me a code",
        "otp_code": "Code from the e-mail",
        "otp_confirm": "Confirm code",
        "otp_sent": "We sent a code to your e-mail address.",
        "otp_wrong": "This code is not right. Please try again.",
        "otp_expired": "This code has expired. Ask for a new one.",
        "otp_again": "Ask for a new code.",
        "otp_unavailable": "We cannot send a code right now. Please try again in a moment.",
        "otp_verified": "Thank you, you can sign now.",
        "kind_sign_task": "Signature",
        "kind_sign_document": "Document signature",
    },
    "nl": {
        "app": "Akkoord",
        "my_tasks": "Mijn taken",
        "open_actions": "Openstaande acties",
        "no_open_actions": "Er wacht op dit moment niets op u.",
        "no_tasks": "U heeft nog geen taken.",
        "phase": "Fase",
        "sign": "Ondertekenen",
        "sign_document": "Document ondertekenen",
        "decline": "Weigeren",
        "view_task": "Taak bekijken",
        "expires": "Reageer vóór",
        "timeline": "Tijdlijn",
        "timeline_empty": "Er is nog niets gebeurd.",
        "timeline_unavailable": "De tijdlijn kan nu niet worden getoond. Probeer het later opnieuw.",
        "your_actions": "Uw acties",
        "status_open": "Wacht op u",
        "status_completed": "Ondertekend",
        "status_declined": "Geweigerd",
        "status_cancelled": "Geannuleerd",
        "status_expired": "Verlopen",
        "sign_title": "Ondertekenen: {title}",
        "fields": "Vul in",
        "required": "verplicht",
        "signature": "Uw handtekening",
        "typed_name": "Typ uw volledige naam als handtekening",
        "typed_hint": "Uw naam wordt omgezet in een afbeelding van een handtekening.",
        "upload_signature": "Of upload een foto van uw handtekening",
        "upload_hint": "PNG of JPEG, maximaal 512 KB. Een geüploade afbeelding wordt gebruikt in plaats van de "
                       "getypte naam.",
        "consent_legend": "Toestemming",
        "submit_sign": "Nu ondertekenen",
        "decline_title": "Weigeren: {title}",
        "reason": "Waarom weigert u?",
        "submit_decline": "Weigeren",
        "back": "Terug naar mijn taken",
        "signed_ok": "Dank u. Uw handtekening is vastgelegd.",
        "declined_ok": "U heeft geweigerd. We hebben het team op de hoogte gebracht.",
        "errors_title": "Verbeter het volgende:",
        "language": "Taal",
        "switch": "Wijzigen",
        "logout": "Afmelden",
        "document": "Document",
        "document_changed": "Dit document is gewijzigd, bekijk het opnieuw.",
        "consent_changed": "De toestemmingstekst is gewijzigd, lees deze opnieuw.",
        "download_pdf": "Document downloaden (PDF)",
        "page_of": "Pagina {n} van {total}",
        "page_text": "Tekst van pagina {n}",
        "document_unavailable": "Het document kan nu niet worden getoond en dus nog niet worden ondertekend. "
                                "Probeer het later opnieuw.",
        "link_invalid_title": "Deze link werkt niet",
        "link_invalid": "De link is onvolledig of ongeldig. Gebruik de nieuwste link uit uw e-mail.",
        "link_expired_title": "Deze link is verlopen",
        "link_expired": "Voor uw veiligheid werken links een beperkte tijd. Vraag de afzender om een nieuwe link.",
        "link_used_title": "Deze link is al gebruikt",
        "link_used": "Elke link werkt één keer. Heeft u het portaal gesloten? Vraag de afzender om een nieuwe link.",
        "signed_out_title": "U bent niet aangemeld",
        "signed_out": "Open de link uit uw e-mail om verder te gaan.",
        "not_found": "Deze pagina bestaat niet of is niet voor u.",
        "not_open": "Deze actie staat niet meer open.",
        "already_signed": "Dit is al ondertekend.",
        "too_many": "Te veel pogingen. Wacht een minuut en probeer het opnieuw.",
        "field_required": "Vul in: {label}",
        "field_too_long": "{label} is te lang",
        "signature_required": "Typ uw naam, of upload een foto van uw handtekening.",
        "consent_required": "Vink het vakje aan om akkoord te gaan.",
        "signature_upload_invalid": "Deze afbeelding kan niet worden gebruikt: upload een PNG of JPEG van "
                                    "maximaal 512 KB waarop uw handtekening staat.",
        "reason_required": "Vertel ons waarom u weigert.",
        "verify_title": "Een ondertekende PDF controleren",
        "verify_intro": "Upload een via Akkoord ondertekende PDF om te controleren of het zegel geldig is en of "
                        "het document sindsdien niet is gewijzigd.",
        "verify_file": "Ondertekende PDF",
        "verify_submit": "Controleren",
        "verify_ok": "Geldig: deze PDF draagt het zegel van Akkoord en is sinds het verzegelen niet gewijzigd.",
        "verify_bad": "Niet geldig: deze PDF draagt geen geldig, ongewijzigd zegel van Akkoord.",
        "verify_sealed_at": "Verzegeld op",
        "verify_sealed_by": "Verzegeld door",
        "verify_not_pdf": "Kies een PDF-bestand van maximaal 20 MB.",
        "verify_unavailable": "Controleren is nu niet mogelijk. Probeer het later opnieuw.",
        "otp_title": "Bevestig dat u het bent",
        "otp_intro": "Voordat u ondertekent, e-mailen we u een code. Vul die hier in.",
        "otp_send": "E-mail mij een code",
        "otp_code": "Code uit de e-mail",
        "otp_confirm": "Code bevestigen",
        "otp_sent": "We hebben een code naar uw e-mailadres gestuurd.",
        "otp_wrong": "Deze code klopt niet. Probeer het opnieuw.",
        "otp_expired": "Deze code is verlopen. Vraag een nieuwe aan.",
        "otp_again": "Vraag een nieuwe code aan.",
        "otp_unavailable": "We kunnen nu geen code sturen. Probeer het zo opnieuw.",
        "otp_verified": "Dank u, u kunt nu ondertekenen.",
        "kind_sign_task": "Handtekening",
        "kind_sign_document": "Documentondertekening",
    },
}

MONTHS = {
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
}


def language_of(value: str | None, fallback: str = "nl") -> str:
    return value if value in LANGUAGES else fallback


def messages(language: str) -> dict[str, str]:
    return MESSAGES[language_of(language)]


def format_datetime(value: datetime | str | None, language: str, zone: tzinfo = timezone.utc) -> str:
    """A moment in the contact's locale and the portal's display zone: '30 november 2026 15:05 CET'."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    local = value.astimezone(zone)
    month = MONTHS[language_of(language)][local.month - 1]
    sep = "," if language == "en" else ""
    return f"{local.day} {month} {local.year}{sep} {local:%H:%M} {local.tzname()}"
