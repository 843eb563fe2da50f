"""Generate the project's own synthetic support tickets, deterministically, for the demo model.

Everything this module produces is **synthetic**: no real customer wrote any of it. The committed
file ``data/sample_tickets.csv`` is the output of :func:`write_sample_csv` with its defaults, and a
test regenerates it byte for byte, so the file and this code cannot drift apart.

Why it exists: the demo model (``triage train`` on a fresh checkout, the examples, the API smoke
tests) needs labelled tickets that ship with the package and carry a clear licence. Synthetic data
is fine for that, but it says nothing about real quality: quality is measured and reported on the
public data in ``../shared/datasets``, never on this file.

How it is made (standard library only, so one seed gives the same bytes on every platform):

1. Draw the labels and metadata first, from skewed distributions that look like a help desk: topic
   bug ~40 %, billing ~25 %, feature_request ~25 %, account ~10 %; urgency high ~12 %,
   normal ~58 %, low ~30 %. Urgency depends on the topic (feature requests are almost never high,
   bugs and failed payments more often) and a little on the plan (enterprise escalates more, free
   less). The product follows the topic (billing tickets are mostly ``product=billing``) but not
   always; region follows the language.
2. Write the text from hand-written English and German templates (German ~20 %, written as German,
   not translated by code): a subject, a greeting, an opener, one or two problem sentences for the
   topic, generic sentences that every topic shares ("I tried logging out and in again", "Thanks for
   your help"), cues for the urgency ("production is down", "ASAP", "!!!", "dringend"; "no rush",
   "just curious"), and sometimes an error code (``402``, ``E1234``, ``0x80070005``, ``HTTP 500``,
   ``ERR_CONNECTION_RESET``), a URL, an e-mail signature with a phone number. ``[a|b]`` in a
   template picks one alternative and ``{slot}`` draws a filler, which multiplies the wording.
3. Make it hard on purpose, so a linear model scores well but not perfectly: cues leak into the
   wrong urgency now and then, many high tickets carry no cue, some tickets are vague or sit between
   two topics (a bug on the invoice page, a login problem that blocks a card update), and ~10 % get
   typos (a swapped or dropped letter).
4. **Label noise:** about 4 % of rows (:data:`LABEL_NOISE`) then get one label flipped at random,
   either urgency or topic, to another value of the same head. The text is not changed, so these
   rows are wrong on purpose, like the mistakes human agents make; no model should score 1.0.

With the defaults, TF-IDF 1-2-grams + ``LinearSVC(class_weight="balanced")`` on subject and body
reach about 0.85-0.89 macro-F1 on topic and 0.65-0.68 on urgency (stratified 80/20 splits): easy
enough for a convincing demo, hard enough that thresholds and abstention have work to do.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from random import Random

__all__ = [
    "CHANNELS",
    "COLUMNS",
    "LABEL_NOISE",
    "PLANS",
    "PRODUCTS",
    "REGIONS",
    "TOPICS",
    "URGENCIES",
    "generate_tickets",
    "write_sample_csv",
]

#: Column order of the CSV; the data contract reads the columns by name.
COLUMNS = ("subject", "body", "product", "plan", "region", "channel", "urgency", "topic")
PRODUCTS = ("billing", "web_app", "mobile_app", "api", "integrations")
PLANS = ("free", "pro", "business", "enterprise")
REGIONS = ("eu", "us", "apac")
CHANNELS = ("email", "web", "chat")
URGENCIES = ("high", "normal", "low")
TOPICS = ("billing", "bug", "feature_request", "account")

#: Share of rows whose urgency or topic label is flipped at random after the text is written.
LABEL_NOISE = 0.04
_GERMAN_SHARE = 0.20
_TYPO_SHARE = 0.10
# Shares of tickets that are vague, worded like a neighbouring topic, or mention both topics.
_VAGUE_SHARE = 0.09
_CROSS_SHARE = 0.18
_MIXED_SHARE = 0.15

_TOPIC_WEIGHTS = {"bug": 0.40, "billing": 0.25, "feature_request": 0.25, "account": 0.10}
# P(high) and P(low) per topic before the plan adjusts P(high); normal takes the rest.
_URGENCY_BASE = {
    "bug": (0.16, 0.22),
    "billing": (0.14, 0.26),
    "feature_request": (0.01, 0.55),
    "account": (0.12, 0.24),
}
_PLAN_WEIGHTS = {"free": 0.35, "pro": 0.30, "business": 0.20, "enterprise": 0.15}
# Multiplies P(high); weighted by _PLAN_WEIGHTS it averages about 1, so the overall share holds.
_PLAN_ESCALATION = {"free": 0.55, "pro": 0.9, "business": 1.2, "enterprise": 1.9}
_PRODUCT_WEIGHTS = {
    "billing": (0.72, 0.12, 0.06, 0.04, 0.06),
    "bug": (0.07, 0.36, 0.26, 0.19, 0.12),
    "feature_request": (0.06, 0.34, 0.22, 0.16, 0.22),
    "account": (0.10, 0.52, 0.26, 0.06, 0.06),
}
_REGION_WEIGHTS = {"de": (0.92, 0.04, 0.04), "en": (0.33, 0.42, 0.25)}
_CHANNEL_WEIGHTS = {"high": (0.40, 0.25, 0.35), "other": (0.50, 0.32, 0.18)}
_SIGNATURE_SHARE = {"email": 0.6, "web": 0.2, "chat": 0.05}
_CODE_SHARE = {"bug": 0.5, "billing": 0.3, "account": 0.3, "feature_request": 0.04}
_URL_SHARE = 0.13

_ALTERNATION = re.compile(r"\[([^\[\]]*)\]")
_SLOT = re.compile(r"\{(\w+)\}")


def _words(text: str) -> tuple[str, ...]:
    """Short fillers separated by ``|``, several to a line, so the filler lists stay compact."""
    return tuple(word.strip() for word in text.split("|"))


def _lines(block: str) -> tuple[str, ...]:
    """One template per non-empty line, so the long lists below stay readable."""
    return tuple(line.strip() for line in block.strip().splitlines() if line.strip())


# --- Slot fillers -------------------------------------------------------------------------------

_FILLERS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "feature": _words(
            "dashboard | reports page | CSV export | search | notifications | settings page | user "
            "management | audit log | calendar view | file upload | team inbox | analytics tab | "
            "project list | PDF export"
        ),
        "when": _words(
            "since this morning | since yesterday | after the last update | since Monday | for two "
            "days now | since the release last night | for about an hour | since we migrated"
        ),
        "device": _words(
            "iPhone 13 (iOS 17.2) | Pixel 7 | Samsung Galaxy S22 | iPad Air | "
            "Chrome 120 on Windows 11 | Safari on macOS Sonoma | Firefox 121 | Edge on Windows 10"
        ),
        "idea": _words(
            "dark mode | a bulk edit option | custom fields on tickets | scheduled reports | an "
            "export to Excel | keyboard shortcuts | recurring tasks | a Gantt view | saved filters "
            "| multi-language templates | an audit trail per user | offline mode in the app"
        ),
    },
    "de": {
        "feature": _words(
            "Dashboard | Berichtsseite | CSV-Export | Suche | Benachrichtigungen | "
            "Einstellungsseite | Benutzerverwaltung | Projektliste | Kalenderansicht | "
            "Datei-Upload | PDF-Export"
        ),
        "when": _words(
            "seit heute Morgen | seit gestern | seit dem letzten Update | seit Montag | seit zwei "
            "Tagen | seit etwa einer Stunde | seit der Umstellung"
        ),
        "device": _words(
            "iPhone 13 (iOS 17.2) | Pixel 7 | Samsung Galaxy S22 | Chrome auf Windows 11 | Safari "
            "auf dem Mac | Firefox 121"
        ),
        "idea": _words(
            "einen Dunkelmodus | eine Massenbearbeitung | eigene Felder | geplante Berichte | "
            "einen Export nach Excel | Tastenkürzel | wiederkehrende Aufgaben | "
            "gespeicherte Filter | einen Offline-Modus in der App"
        ),
    },
}
_SHARED_FILLERS: dict[str, tuple[str, ...]] = {
    "integration": _words(
        "Slack | Salesforce | Zapier | HubSpot | Jira | Microsoft Teams | Google Drive | Shopify | "
        "QuickBooks | DATEV"
    ),
    "endpoint": _words(
        "/v2/orders | /v2/customers | /v1/webhooks | /v2/invoices | /v2/users/search | /v1/events"
    ),
    "card": ("Visa ending in 4242", "Mastercard ending in 5100", "Amex ending in 0005"),
    "first": _words(
        "Jane | John | Maria | Thomas | Aisha | Kenji | Lukas | Sophie | Priya | Carlos | Anna | "
        "Felix | Mei | Oliver"
    ),
    "last": _words(
        "Doe | Müller | Schmidt | Nguyen | Patel | Garcia | Tanaka | Becker | Smith | Rossi | "
        "Wagner | Okafor"
    ),
    "company": _words(
        "Acme GmbH | Globex Inc. | Initech Ltd | Umbrella Logistics | Stark Retail AG | "
        "Wayne Media | Nordlicht Software GmbH | Blue Harbor Co. | Kiwi Analytics Pty Ltd | "
        "Sakura Trading KK"
    ),
}
_ERROR_CODES = {
    "bug": _words(
        "HTTP 500 | HTTP 502 | HTTP 503 | ERR_CONNECTION_RESET | ERR_TIMED_OUT | 0x80070005 | "
        "0x8007000E | E1234 | E5021 | E3307"
    ),
    "billing": ("402", "HTTP 402", "E4021", "E1234", "card_declined"),
    "account": ("401", "403", "HTTP 401", "HTTP 403", "E2210", "0x80070005"),
    "feature_request": ("HTTP 429", "E1234"),
}
_URL_PATHS = {
    "billing": ("settings/billing", "billing/invoices", "settings/billing/payment-method", "plans"),
    "bug": ("reports/weekly", "dashboard", "projects/{count}/files", "inbox", "settings/exports"),
    "account": ("settings/users", "settings/security", "login", "settings/profile"),
    "feature_request": ("settings/integrations", "reports", "settings/workflows", "dashboard"),
}


# --- Templates ----------------------------------------------------------------------------------
# English first, then German; each dict is keyed by topic. "[a|b]" picks one alternative, "{x}" a
# filler. Templates mention metadata (products, plans) loosely, as real customers do.

_SUBJECTS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "bug": _lines("""
            {feature} not loading
            Error {code} on the {feature}
            App crashes when I open the {feature}
            [Blank|White] screen after login
            {feature} [is broken|stopped working] {when}
            Cannot upload files
            Mobile app keeps crashing on {device}
            API returns {code} for {endpoint}
            {integration} sync is failing
            Export produces an empty file
            Buttons do nothing in the {feature}
            Data missing from the {feature}
            Webhook not firing
            Timeouts in the {feature}
            Page freezes on {device}
            Wrong numbers in the {feature}
            Push notifications not arriving
            Search returns nothing
            Duplicate entries after import
            Something broke after the update
            Bug in the {feature}
            {integration} integration throws {code}
            Save button [not working|greyed out]
            Attachments can't be opened
            """),
        "billing": _lines("""
            Charged twice this month
            Payment failed for our {plan_name} plan
            Question about invoice {invoice}
            Refund request
            Wrong amount on [my|our] invoice
            Card declined ({code})
            Need a copy of invoice {invoice}
            VAT number missing on invoice
            Upgrade to {plan_name} - how is it billed?
            Cancel my subscription
            Downgrade from {plan_name}
            Unexpected charge of {amount}
            Billing address change
            Proration question
            Payment method update
            Invoice sent to the wrong email
            Annual vs monthly billing
            Credit note for {invoice}
            Our subscription was suspended
            Price increase?
            Discount code not applied
            Tax on [my|the] latest invoice
            """),
        "feature_request": _lines("""
            Feature request: {idea}
            Suggestion for the {feature}
            Would love to see {idea}
            Can you add {idea}?
            Idea: {idea}
            Request: {integration} integration
            Any plans for {idea}?
            Improvement for the {feature}
            [Wish|Nice to have]: {idea}
            Support for {integration}?
            Roadmap question about {idea}
            More options in the {feature}
            API endpoint for {feature}?
            Please add {idea}
            Custom branding on reports
            Bulk actions in the {feature}
            Better filters in the {feature}
            Webhooks for more events
            Feedback on the new {feature}
            Suggestion: {idea}
            """),
        "account": _lines("""
            Can't log in
            Password reset [not working|email never arrives]
            Locked out of my account
            Change the account owner
            Two-factor [code rejected|authentication problem]
            Add a new admin
            Delete my account
            Change my email address
            SSO login fails with {code}
            Remove a former employee
            Account merge request
            Username change
            Invitation link expired
            Access for a new colleague
            Account deactivated?
            Login loop on {device}
            """),
    },
    "de": {
        "bug": _lines("""
            {feature} lädt nicht
            Fehler {code} im {feature}
            App stürzt beim Öffnen ab
            Weißer Bildschirm nach dem Login
            {feature} funktioniert nicht mehr
            Datei-Upload schlägt fehl
            Mobile App stürzt auf {device} ab
            API liefert {code} für {endpoint}
            Synchronisation mit {integration} fehlerhaft
            Export ist leer
            Daten fehlen im {feature}
            Fehler nach dem Update
            Speichern [geht nicht|funktioniert nicht]
            Problem mit {integration} ({code})
            """),
        "billing": _lines("""
            Doppelte Abbuchung
            Zahlung fehlgeschlagen
            Frage zur Rechnung {invoice}
            Rückerstattung
            Falscher Betrag auf der Rechnung
            Kreditkarte abgelehnt ({code})
            Rechnungskopie {invoice} benötigt
            USt-IdNr. fehlt auf der Rechnung
            Kündigung des Abos
            Wechsel auf {plan_name}
            Unerwartete Abbuchung von {amount}
            Änderung der Rechnungsadresse
            Zahlungsmethode ändern
            Gutschrift für {invoice}
            """),
        "feature_request": _lines("""
            Funktionswunsch: {idea}
            Vorschlag für die {feature}
            Wäre toll: {idea}
            Können Sie {idea} einbauen?
            Idee: {idea}
            Integration mit {integration}?
            Verbesserung der {feature}
            Gibt es Pläne für {idea}?
            Anregung zur {feature}
            Wunsch: {idea}
            """),
        "account": _lines("""
            Login nicht möglich
            Passwort zurücksetzen funktioniert nicht
            Konto gesperrt
            Kontoinhaber ändern
            Zwei-Faktor-Code wird abgelehnt
            Neuen Admin hinzufügen
            Konto löschen
            E-Mail-Adresse ändern
            SSO-Anmeldung schlägt fehl ({code})
            Ehemaligen Mitarbeiter entfernen
            Einladungslink abgelaufen
            """),
    },
}

# Subjects that say little about the topic; they appear under every topic.
_VAGUE_SUBJECTS = {
    "en": _lines("""
        Problem
        Question
        Help needed
        Issue with the {feature}
        Follow-up on ticket {ticket}
        Quick question
        Re: your last email
        Support request
        Not sure who to ask
        About our {plan_name} account
        """),
    "de": _lines("""
        Problem
        Frage
        Bitte um Hilfe
        Anfrage
        Rückfrage zu Ticket {ticket}
        Kurze Frage
        Unser {plan_name}-Konto
        """),
}

_OPENERS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "bug": _lines("""
            I think we found a bug.
            Something is wrong with the {feature}.
            We are seeing errors {when}.
            I want to report a problem with the app.
            The {feature} is behaving strangely.
            Since the last release things are broken for us.
            One of our users reported a crash and I can reproduce it.
            I'm not sure if this is a bug or something on our side.
            """),
        "billing": _lines("""
            I have a question about our bill.
            I'm writing about our latest invoice.
            There seems to be an issue with our payment.
            I'm the billing contact for {company}.
            Our finance team asked me to contact you.
            I need some help with our subscription.
            I looked at the charges for last month.
            Quick billing question.
            """),
        "feature_request": _lines("""
            We really like the product and have a suggestion.
            I have an idea that would help our team.
            Not a problem, more of a wish.
            We've been using the {feature} a lot lately.
            Our team keeps asking me about this.
            I'd like to suggest an improvement.
            I was wondering whether this is on your roadmap.
            Small feedback from a happy customer.
            """),
        "account": _lines("""
            I need help with my account.
            I have a question about user access.
            We have a problem with logins.
            I'm the admin for {company}.
            One of our users cannot get in.
            Some changes to our account, please.
            I'm having trouble signing in.
            Question about account settings.
            """),
    },
    "de": {
        "bug": _lines("""
            ich glaube, wir haben einen Fehler gefunden.
            mit der {feature} stimmt etwas nicht.
            wir sehen {when} Fehlermeldungen.
            ich möchte ein Problem mit der App melden.
            seit dem letzten Update ist bei uns etwas kaputt.
            """),
        "billing": _lines("""
            ich habe eine Frage zu unserer Rechnung.
            es geht um unsere letzte Rechnung.
            bei unserer Zahlung gibt es ein Problem.
            ich bin für die Buchhaltung bei {company} zuständig.
            ich brauche Hilfe mit unserem Abonnement.
            """),
        "feature_request": _lines("""
            wir sind mit dem Produkt sehr zufrieden und haben einen Vorschlag.
            ich hätte eine Idee, die unserem Team helfen würde.
            kein Problem, eher ein Wunsch.
            wir nutzen die {feature} sehr viel.
            ich möchte eine Verbesserung vorschlagen.
            """),
        "account": _lines("""
            ich brauche Hilfe mit meinem Konto.
            ich habe eine Frage zu den Benutzerrechten.
            wir haben ein Problem mit der Anmeldung.
            ich bin Administrator bei {company}.
            einer unserer Benutzer kommt nicht mehr rein.
            """),
    },
}

_PROBLEMS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "bug": _lines("""
            The {feature} [shows a blank page|never finishes loading] {when}.
            When I click save, nothing happens and the changes are lost.
            The app crashes [right after|as soon as] I open the {feature} on {device}.
            Calls to {endpoint} return {code} about half of the time.
            The {integration} sync stopped [working|syncing] {when} and shows {code}.
            The CSV export downloads an empty file.
            Uploading a file larger than 5 MB fails with {code}.
            The numbers in the {feature} do not match what we entered.
            Every record we import shows up twice.
            The page freezes and I have to reload it.
            Push notifications stopped arriving on {device}.
            Search returns no results even for exact names.
            The webhook for new orders never fires.
            Dates in the {feature} are shown one day off.
            The app logs me out every few minutes while I work in the {feature}.
            Charts in the {feature} are empty although there is data.
            Attachments open as broken files.
            The {feature} shows another customer's name at the top.
            We get {code} when we try to open the {feature}.
            Sorting by date puts the newest items in the middle of the list.
            The mobile app hangs on the splash screen on {device}.
            Our API client gets {code} on {endpoint} since you changed something.
            """),
        "billing": _lines("""
            We were charged twice for {month}, {amount} each time.
            The payment with our {card} failed with {code}.
            Invoice {invoice} shows the wrong number of seats.
            Please refund the {amount} that was charged after we cancelled.
            Our VAT ID is missing on invoice {invoice}.
            I'd like to switch from monthly to annual billing.
            The invoice was sent to an old address, please use billing@{domain}.
            We upgraded to {plan_name} but were still charged the old price.
            Our subscription was suspended because a payment did not go through.
            The discount code from your sales team was not applied.
            Can you send a credit note for invoice {invoice}?
            How does proration work if we add {count} seats mid-month?
            I need to change the billing address to our new office.
            We want to cancel the subscription at the end of the term.
            There is a charge of {amount} that I cannot explain.
            Please update the payment method to our new {card}.
            We were billed for {count} users but we only have {count2}.
            Could you add our purchase order number to the next invoice?
            We'd like to pay by bank transfer instead of card.
            The price on the invoice differs from the quote we got.
            """),
        "feature_request": _lines("""
            It would be great to have {idea} in the {feature}.
            Could you add {idea}? We would use it every day.
            Please consider an integration with {integration}.
            We'd love an API endpoint to read the {feature} data.
            Being able to export the {feature} to PDF would save us a lot of time.
            Is {idea} on your roadmap?
            A setting to hide archived items in the {feature} would help.
            We would like custom roles with finer permissions.
            Please let us schedule reports to go out every Monday.
            It would help to have templates for recurring projects.
            Could the {feature} remember my last filter?
            We'd like to brand the customer portal with our logo.
            An option to bulk edit records would be really useful.
            Could you support webhooks for more events?
            Any chance of {idea} for the mobile app?
            We would pay more for {idea}.
            It would be nice if the {integration} integration also synced comments.
            Please add keyboard shortcuts for the most common actions.
            """),
        "account": _lines("""
            I can't log in, it says my password is wrong although I just reset it.
            The password reset email never arrives.
            My account is locked after too many attempts.
            Please make {first} {last} the new account owner.
            The two-factor code is always rejected.
            How do I add another admin to our workspace?
            Please delete my account and all my data.
            I need to change the email address I log in with.
            SSO login fails with {code} for everyone in our domain.
            Please remove a former employee who still has access.
            The invitation link for our new colleague has expired.
            I have two accounts and would like to merge them.
            My account shows as deactivated but nobody changed anything.
            I get stuck in a login loop on {device}.
            How can I change my username?
            Can I restrict which users see the {feature}?
            """),
    },
    "de": {
        "bug": _lines("""
            Die {feature} [zeigt nur eine leere Seite|lädt nicht zu Ende] {when}.
            Wenn ich auf Speichern klicke, passiert nichts und die Änderungen sind weg.
            Die App stürzt auf {device} ab, sobald ich die {feature} öffne.
            Aufrufe von {endpoint} liefern in der Hälfte der Fälle {code}.
            Die Synchronisation mit {integration} läuft {when} nicht mehr ({code}).
            Der CSV-Export erzeugt eine leere Datei.
            Das Hochladen größerer Dateien bricht mit {code} ab.
            Die Zahlen in der {feature} stimmen nicht mit unseren Eingaben überein.
            Jeder importierte Datensatz erscheint doppelt.
            Die Seite friert ein und ich muss neu laden.
            Die Suche findet nichts, nicht einmal exakte Namen.
            Der Webhook für neue Bestellungen wird nie ausgelöst.
            Beim Öffnen der {feature} bekommen wir {code}.
            """),
        "billing": _lines("""
            Uns wurde der {month} doppelt berechnet, jeweils {amount}.
            Die Zahlung mit unserer Kreditkarte ist mit {code} fehlgeschlagen.
            Auf der Rechnung {invoice} steht die falsche Anzahl an Lizenzen.
            Bitte erstatten Sie die {amount}, die nach der Kündigung abgebucht wurden.
            Auf der Rechnung {invoice} fehlt unsere USt-IdNr.
            Wir möchten von monatlicher auf jährliche Abrechnung wechseln.
            Wir haben auf {plan_name} gewechselt, zahlen aber noch den alten Preis.
            Unser Abo wurde gesperrt, weil eine Zahlung nicht durchging.
            Können Sie uns eine Gutschrift für {invoice} schicken?
            Wir möchten das Abo zum Ende der Laufzeit kündigen.
            Es gibt eine Abbuchung über {amount}, die ich nicht zuordnen kann.
            Wir würden lieber per SEPA-Lastschrift zahlen.
            """),
        "feature_request": _lines("""
            Es wäre toll, {idea} in der {feature} zu haben.
            Könnten Sie {idea} einbauen? Wir würden das täglich nutzen.
            Bitte denken Sie über eine Integration mit {integration} nach.
            Ein PDF-Export der {feature} würde uns viel Zeit sparen.
            Steht {idea} auf Ihrer Roadmap?
            Wir hätten gern eigene Rollen mit feineren Rechten.
            Berichte automatisch jeden Montag zu verschicken wäre sehr praktisch.
            Könnte sich die {feature} meinen letzten Filter merken?
            Wir würden gern das Kundenportal mit unserem Logo versehen.
            Für {idea} würden wir auch mehr bezahlen.
            """),
        "account": _lines("""
            Ich kann mich nicht anmelden, obwohl ich das Passwort gerade zurückgesetzt habe.
            Die E-Mail zum Zurücksetzen des Passworts kommt nie an.
            Mein Konto ist nach mehreren Versuchen gesperrt.
            Bitte machen Sie {first} {last} zum neuen Kontoinhaber.
            Der Zwei-Faktor-Code wird immer abgelehnt.
            Wie füge ich einen weiteren Administrator hinzu?
            Bitte löschen Sie mein Konto und alle meine Daten.
            Die SSO-Anmeldung schlägt für alle Benutzer unserer Domain mit {code} fehl.
            Bitte entfernen Sie einen ehemaligen Mitarbeiter, der noch Zugriff hat.
            Der Einladungslink für unsere neue Kollegin ist abgelaufen.
            """),
    },
}

# Sentences that honestly belong to two topics; a ticket with one of them can carry either label.
_AMBIGUOUS: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {
    "en": {
        ("billing", "bug"): _lines("""
            The invoice page crashes when I open it.
            Downloading invoice {invoice} gives me {code}.
            The checkout freezes after I enter the card details.
            The billing page shows an error and I can't see what we owe.
            The upgrade button does nothing and we are stuck on the old plan.
            The payment form keeps saying our card is invalid.
            """),
        ("account", "bug"): _lines("""
            The login page just spins forever.
            The password reset link opens an error page.
            After logging in I land on a blank page.
            The user list in the settings doesn't load.
            I keep getting logged out every few minutes.
            """),
        ("account", "billing"): _lines("""
            I can't update the card because only the old owner can log in.
            The billing emails still go to a colleague who left.
            We need to move the subscription to a different admin account.
            I was charged for a user I already removed.
            """),
        ("bug", "feature_request"): _lines("""
            The export only includes the first 1000 rows, is that a limit or a bug?
            Search doesn't find partial words, it would be great if it did.
            The {feature} doesn't work well on small screens.
            The {integration} integration doesn't sync attachments.
            The {feature} is very slow with many records.
            Dark mode is missing in some dialogs.
            """),
        ("billing", "feature_request"): _lines("""
            Could invoices include our cost center?
            It would help if we could pay by SEPA direct debit.
            Can we get one invoice for all our workspaces?
            We'd like usage-based pricing for the API.
            """),
        ("account", "feature_request"): _lines("""
            Can we have SSO with Okta?
            We'd like to require two-factor login for all users.
            Could admins see when a user last logged in?
            Is there a way to add guest users with limited access?
            """),
    },
    "de": {
        ("billing", "bug"): _lines("""
            Die Rechnungsseite stürzt beim Öffnen ab.
            Beim Herunterladen der Rechnung {invoice} kommt {code}.
            Das Zahlungsformular hängt nach Eingabe der Kartendaten.
            Der Upgrade-Button tut nichts und wir bleiben im alten Tarif.
            """),
        ("account", "bug"): _lines("""
            Die Login-Seite lädt endlos.
            Der Link zum Zurücksetzen des Passworts öffnet eine Fehlerseite.
            Nach dem Login sehe ich nur eine leere Seite.
            """),
        ("account", "billing"): _lines("""
            Ich kann die Karte nicht ändern, weil nur der alte Inhaber Zugriff hat.
            Die Rechnungen gehen noch an einen Kollegen, der nicht mehr bei uns ist.
            Uns wird ein Benutzer berechnet, den wir schon entfernt haben.
            """),
        ("bug", "feature_request"): _lines("""
            Der Export enthält nur die ersten 1000 Zeilen, ist das Absicht oder ein Fehler?
            Die Suche findet keine Wortteile, das wäre sehr hilfreich.
            Die {feature} ist mit vielen Datensätzen sehr langsam.
            """),
        ("billing", "feature_request"): _lines("""
            Könnten die Rechnungen unsere Kostenstelle enthalten?
            Können wir eine gemeinsame Rechnung für alle Workspaces bekommen?
            """),
        ("account", "feature_request"): _lines("""
            Wäre SSO mit Okta möglich?
            Können Admins sehen, wann sich ein Benutzer zuletzt angemeldet hat?
            """),
    },
}

# Problem sentences that carry almost no topic signal.
_VAGUE = {
    "en": _lines("""
        Something is not right with the {feature}.
        We have an issue with our account and the {feature}.
        It doesn't work the way it should.
        Can someone call me about this?
        See the subject, more details below.
        This is about what we discussed on the phone.
        Please check our workspace, something is off.
        """),
    "de": _lines("""
        Mit der {feature} stimmt etwas nicht.
        Es funktioniert nicht so, wie es sollte.
        Kann mich bitte jemand dazu anrufen?
        Es geht um unser Telefonat von letzter Woche.
        """),
}

# Said in tickets of every topic: they keep the vocabulary from separating the classes too cleanly.
_GENERIC = {
    "en": _lines("""
        I tried logging out and in again.
        I already cleared the browser cache.
        My colleague sees the same thing.
        We have been customers for {count} years.
        I attached a screenshot.
        Let me know if you need more details.
        This concerns our {plan_name} plan.
        Our account ID is {account_id}.
        I also tried a different browser.
        Not sure if this is the right place to ask.
        I checked the help center but found nothing.
        Your colleague said to open a ticket.
        It happens with {device} too.
        We are a team of {count} people.
        I asked about this before, see ticket {ticket}.
        The same happened last month.
        """),
    "de": _lines("""
        Ich habe mich schon ab- und wieder angemeldet.
        Den Browser-Cache habe ich bereits geleert.
        Bei meinem Kollegen ist es genauso.
        Wir sind seit {count} Jahren Kunden.
        Ein Screenshot ist angehängt.
        Unsere Kundennummer ist {account_id}.
        Ich habe auch einen anderen Browser probiert.
        Im Hilfecenter habe ich nichts gefunden.
        Das betrifft unseren {plan_name}-Tarif.
        Das gleiche Problem hatten wir schon letzten Monat.
        """),
}

_CLOSERS = {
    "en": _lines("""
        Thanks for your help.
        Thanks in advance!
        Could you have a look?
        Please get back to me.
        Looking forward to your answer.
        Any help is appreciated.
        Thank you!
        Cheers.
        Let me know what you think.
        Thanks, and keep up the good work.
        """),
    "de": _lines("""
        Vielen Dank für Ihre Hilfe.
        Danke im Voraus!
        Könnten Sie sich das bitte ansehen?
        Ich freue mich auf Ihre Antwort.
        Danke und viele Grüße.
        Über eine kurze Rückmeldung würde ich mich freuen.
        """),
}

_GREETINGS = {
    "en": ("Hi team,", "Hello,", "Dear Support,", "Hi there,", "Hi,", "Good morning,", ""),
    "de": ("Hallo zusammen,", "Sehr geehrte Damen und Herren,", "Hallo Support-Team,", "Hallo,"),
}

_HIGH_CUES = {
    "en": {
        "any": _lines("""
            This is urgent, please help ASAP!!!
            We need this fixed ASAP.
            This is blocking our whole team!!!
            Please escalate, nobody can work.
            It's costing us money every hour.
            Please call me right away.
            We have a customer demo in an hour!!
            """),
        "bug": _lines("""
            Production is down for all our users!!!
            Production is down and our customers are affected.
            The whole app is unusable for us right now.
            Our [shop|site] is down because of this.
            """),
        "billing": _lines("""
            Payment failed and our account was suspended!!!
            Payment failed again and the team can't work.
            Our service was cut off because the payment failed.
            """),
        "account": _lines("""
            All users locked out since {when}!!!
            All users [are|got] locked out and nobody can log in.
            Our admins are locked out of the account.
            """),
        "feature_request": ("We need this before our go-live next week.",),
    },
    "de": {
        "any": _lines("""
            Das ist dringend, bitte sofort helfen!!!
            Bitte dringend beheben, wir können nicht arbeiten.
            Dringend!!! Das ganze Team ist blockiert.
            Bitte rufen Sie mich umgehend an.
            """),
        "bug": _lines("""
            Die Produktion steht, production is down!!!
            Unser System ist komplett ausgefallen.
            """),
        "billing": _lines("""
            Zahlung fehlgeschlagen und unser Konto wurde gesperrt!!!
            Die Zahlung ist fehlgeschlagen, dringend!
            """),
        "account": _lines("""
            Alle Benutzer sind ausgesperrt!!!
            Niemand kann sich mehr anmelden, dringend!
            """),
        "feature_request": ("Wir brauchen das dringend vor unserem Go-live.",),
    },
}
_HIGH_SUBJECT = {
    "en": (("URGENT: ", ""), ("[URGENT] ", ""), ("", " !!!"), ("", " ASAP"), ("", " - prod down")),
    "de": (("DRINGEND: ", ""), ("[dringend] ", ""), ("", " !!!")),
}
_LOW_CUES = {
    "en": _lines("""
        No rush on this.
        Whenever you get a chance.
        Just curious.
        Not urgent at all.
        No hurry, it's a minor thing.
        Low priority from our side.
        Just wondering, no pressure.
        It can wait until next week.
        """),
    "de": _lines("""
        Keine Eile.
        Wenn Sie mal Zeit haben.
        Nur aus Neugier.
        Nicht dringend.
        Hat keine Eile, ist nur eine Kleinigkeit.
        Das kann bis nächste Woche warten.
        """),
}
_LOW_SUBJECT = {"en": (" (no rush)", " - not urgent", " (just curious)"), "de": (" (keine Eile)",)}
# Mild time pressure that shows up in normal tickets, to blur the edge towards high.
_NORMAL_CUES = {
    "en": _lines("""
        It would be good to sort this out this week.
        Could you look at it today if possible?
        We'd appreciate a quick answer.
        """),
    "de": _lines("""
        Es wäre gut, das diese Woche zu klären.
        Über eine schnelle Antwort würden wir uns freuen.
        """),
}
_CODE_SENTENCES = {
    "en": _lines("""
        The error says {code}.
        I get [error|error code] {code} [every time|each time|now and then].
        Error: {code}.
        The [console|log] shows {code}.
        """),
    "de": _lines("""
        Es erscheint der Fehler {code}.
        Fehlermeldung: {code}.
        Im Log steht {code}.
        """),
}
_URL_SENTENCES = {
    "en": ("It happens on {url}", "Here is the page: {url}", "Link: {url}", "See {url}"),
    "de": ("Betroffene Seite: {url}", "Link: {url}", "Es passiert hier: {url}"),
}
_SIGN_OFFS = {
    "en": ("Best regards,", "Kind regards,", "Thanks,", "Regards,", "Cheers,"),
    "de": ("Mit freundlichen Grüßen", "Viele Grüße", "Beste Grüße", "MfG"),
}
_PHONES = {
    "eu": ("+49 30 {digits}", "+49 89 {digits}", "+44 20 {digits}", "+33 1 {digits}"),
    "us": ("+1 (415) 555-{digits4}", "+1 (212) 555-{digits4}", "+1 (617) 555-{digits4}"),
    "apac": ("+61 2 {digits}", "+81 3 {digits}", "+65 {digits}"),
}
_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "September", "October"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "September", "Oktober"),
}


class _Slots:
    """Fill ``{slot}`` placeholders for one ticket; a slot keeps its value within the ticket.

    Keeping the value means a ticket that names "the reports page" twice names the same page, which
    real tickets do and which keeps the wording coherent.
    """

    def __init__(self, rng: Random, lang: str, topic: str, region: str, plan: str) -> None:
        self._rng = rng
        self._lang = lang
        self._topic = topic
        self._region = region
        self._plan = plan
        self._values: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name not in self._values:
            self._values[name] = self._draw(name)
        return self._values[name]

    def _draw(self, name: str) -> str:
        rng = self._rng
        if name in _FILLERS[self._lang]:
            return rng.choice(_FILLERS[self._lang][name])
        if name in _SHARED_FILLERS:
            return rng.choice(_SHARED_FILLERS[name])
        if name == "plan_name":
            # Mostly the customer's own plan; sometimes the one they want to move to.
            plan = self._plan if rng.random() < 0.8 else rng.choice(PLANS)
            return plan.capitalize()
        if name == "code":
            return rng.choice(_ERROR_CODES[self._topic])
        if name == "amount":
            cents = rng.choice(("00", "99", "50"))
            if self._lang == "de":
                return f"{rng.randint(9, 2999)},{cents} €"
            return f"{rng.choice(('$', '€', '£'))}{rng.randint(9, 2999)}.{cents}"
        if name == "invoice":
            return f"INV-{rng.randint(2023, 2025)}-{rng.randint(100, 99999):05d}"
        if name == "ticket":
            return f"#{rng.randint(10000, 99999)}"
        if name in ("count", "count2"):
            return str(rng.randint(2, 40))
        if name == "account_id":
            return f"ACC-{rng.randint(100000, 999999)}"
        if name == "month":
            return rng.choice(_MONTHS[self._lang])
        if name == "domain":
            return _domain(self("company"))
        if name == "url":
            path = _render(rng.choice(_URL_PATHS[self._topic]), rng, self)
            return f"https://app.example.com/{path}"
        if name == "phone":
            template = rng.choice(_PHONES[self._region])
            return template.format(
                digits=f"{rng.randint(1000000, 9999999)}", digits4=f"{rng.randint(0, 9999):04d}"
            )
        raise ValueError(f"unknown template slot {name!r}")


def _domain(company: str) -> str:
    """Turn a company name into a plausible mail domain (``Acme GmbH`` -> ``acme.example``)."""
    return re.sub(r"[^a-z]", "", company.lower().split()[0]) + ".example"


def _render(template: str, rng: Random, slots: _Slots) -> str:
    """Expand ``[a|b]`` alternatives, then fill ``{slot}`` placeholders."""
    text = _ALTERNATION.sub(lambda match: rng.choice(match.group(1).split("|")), template)
    return _SLOT.sub(lambda match: slots(match.group(1)), text)


def _pick(rng: Random, weights: Mapping[str, float]) -> str:
    """Draw a key by weight; the mapping's order is fixed, so the draw is reproducible."""
    keys = list(weights)
    return rng.choices(keys, weights=[weights[key] for key in keys])[0]


def _pick_from(rng: Random, values: Sequence[str], weights: Sequence[float]) -> str:
    """Draw one of ``values`` with the matching weight (weights need not sum to 1)."""
    return rng.choices(list(values), weights=list(weights))[0]


def _urgency(rng: Random, topic: str, plan: str) -> str:
    """Draw urgency from the topic's base rates, with P(high) scaled by how the plan escalates."""
    base_high, base_low = _URGENCY_BASE[topic]
    high = min(base_high * _PLAN_ESCALATION[plan], 0.9)
    scale = (1.0 - high) / (1.0 - base_high)
    return _pick_from(
        rng, URGENCIES, (high, (1.0 - base_high - base_low) * scale, base_low * scale)
    )


def _typos(text: str, rng: Random) -> str:
    """Swap or drop one letter in one to three plain words, as hurried typing does.

    Only letters-only words of four or more characters are touched, so URLs, error codes, names
    with digits and the signature's line breaks stay intact.
    """
    words = text.split(" ")
    candidates = [i for i, word in enumerate(words) if len(word) >= 4 and word.isalpha()]
    for _ in range(rng.randint(1, 3)):
        if not candidates:
            break
        index = rng.choice(candidates)
        word = words[index]
        at = rng.randrange(len(word) - 1)
        if rng.random() < 0.5:
            word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        else:
            word = word[:at] + word[at + 1 :]
        words[index] = word
    return " ".join(words)


def _framing(rng: Random, lang: str, topic: str) -> tuple[str | None, tuple[str, str] | None]:
    """Decide whose words the ticket uses: its own topic's, a neighbour's, or nobody's.

    Returns the topic whose subject and opener templates to use (``None``: a vague ticket) and the
    pair of topics whose shared sentence goes in (``None``: none). Most tickets use their own
    topic. A cross-over ticket is worded like the neighbouring topic and carries a sentence that
    fits both ("the invoice page crashes" filed as billing), as customers do when they cannot tell
    a bug from a billing problem; that is what keeps topic accuracy honest.
    """
    roll = rng.random()
    if roll < _VAGUE_SHARE:
        return None, None
    pairs = [pair for pair in _AMBIGUOUS[lang] if topic in pair]
    if roll < _VAGUE_SHARE + _CROSS_SHARE:
        pair = rng.choice(pairs)
        return (pair[0] if pair[1] == topic else pair[1]), pair
    return topic, (rng.choice(pairs) if rng.random() < _MIXED_SHARE else None)


def _problem_sentences(
    rng: Random,
    lang: str,
    topic: str,
    framing: tuple[str | None, tuple[str, str] | None],
    slots: _Slots,
) -> list[str]:
    """One to three sentences about the problem, following :func:`_framing`."""
    frame, pair = framing
    if frame is None:
        templates = [rng.choice(_VAGUE[lang])]
    elif frame != topic and pair is not None:
        templates = [rng.choice(_AMBIGUOUS[lang][pair])]
        if rng.random() < 0.3:
            templates.append(rng.choice(_PROBLEMS[lang][topic]))
    else:
        templates = [rng.choice(_PROBLEMS[lang][topic])]
        if rng.random() < 0.35:
            templates.append(rng.choice(_PROBLEMS[lang][topic]))
        if pair is not None:
            templates.insert(rng.randint(0, len(templates)), rng.choice(_AMBIGUOUS[lang][pair]))
    return [_render(template, rng, slots) for template in dict.fromkeys(templates)]


def _urgency_sentences(
    rng: Random, lang: str, topic: str, urgency: str, slots: _Slots
) -> list[str]:
    """Cues for the urgency; present often but not always, and sometimes on the wrong level."""
    cues: list[str] = []
    if urgency == "high":
        if rng.random() < 0.72:
            pool = _HIGH_CUES[lang][topic] if rng.random() < 0.6 else _HIGH_CUES[lang]["any"]
            cues.append(rng.choice(pool))
    elif urgency == "low":
        if rng.random() < 0.6:
            cues.append(rng.choice(_LOW_CUES[lang]))
    else:
        roll = rng.random()
        if roll < 0.04:
            cues.append(rng.choice(_HIGH_CUES[lang]["any"]))
        elif roll < 0.09:
            cues.append(rng.choice(_LOW_CUES[lang]))
        elif roll < 0.25:
            cues.append(rng.choice(_NORMAL_CUES[lang]))
    return [_render(cue, rng, slots) for cue in cues]


def _subject(rng: Random, lang: str, frame: str | None, urgency: str, slots: _Slots) -> str:
    """A subject from the framing topic's templates (or a vague one), sometimes marked urgent."""
    if frame is None or rng.random() < 0.18:
        subject = _render(rng.choice(_VAGUE_SUBJECTS[lang]), rng, slots)
    else:
        subject = _render(rng.choice(_SUBJECTS[lang][frame]), rng, slots)
    roll = rng.random()
    if (urgency == "high" and roll < 0.35) or (urgency == "normal" and roll < 0.02):
        prefix, suffix = rng.choice(_HIGH_SUBJECT[lang])
        subject = f"{prefix}{subject}{suffix}"
    elif urgency == "low" and roll < 0.12:
        subject += rng.choice(_LOW_SUBJECT[lang])
    return subject


def _signature(rng: Random, lang: str, slots: _Slots) -> str:
    """An e-mail signature: sign-off, name, often company and phone, or a mobile footer."""
    if rng.random() < 0.08:
        return "Sent from my iPhone" if lang == "en" else "Von meinem iPhone gesendet"
    lines = [rng.choice(_SIGN_OFFS[lang]), f"{slots('first')} {slots('last')}"]
    if rng.random() < 0.7:
        lines.append(slots("company"))
    if rng.random() < 0.45:
        lines.append(f"{'Tel.' if lang == 'de' else 'Phone:'} {slots('phone')}")
    return "\n".join(lines)


def _ticket(rng: Random) -> dict[str, str]:
    """One ticket: labels and metadata first, then text written to fit them."""
    lang = "de" if rng.random() < _GERMAN_SHARE else "en"
    topic = _pick(rng, _TOPIC_WEIGHTS)
    plan = _pick(rng, _PLAN_WEIGHTS)
    urgency = _urgency(rng, topic, plan)
    product = _pick_from(rng, PRODUCTS, _PRODUCT_WEIGHTS[topic])
    region = _pick_from(rng, REGIONS, _REGION_WEIGHTS[lang])
    channel = _pick_from(rng, CHANNELS, _CHANNEL_WEIGHTS["high" if urgency == "high" else "other"])
    slots = _Slots(rng, lang, topic, region, plan)

    framing = _framing(rng, lang, topic)
    frame = framing[0]
    subject = _subject(rng, lang, frame, urgency, slots)
    sentences = []
    if frame is not None and rng.random() < 0.8:
        sentences.append(_render(rng.choice(_OPENERS[lang][frame]), rng, slots))
    sentences += _problem_sentences(rng, lang, topic, framing, slots)
    if rng.random() < _CODE_SHARE[frame or topic]:
        sentences.append(_render(rng.choice(_CODE_SENTENCES[lang]), rng, slots))
    generic = rng.sample(_GENERIC[lang], k=rng.choice((0, 1, 1, 2, 2, 3)))
    sentences += [_render(template, rng, slots) for template in generic]
    sentences += _urgency_sentences(rng, lang, topic, urgency, slots)
    if rng.random() < _URL_SHARE:
        sentences.append(_render(rng.choice(_URL_SENTENCES[lang]), rng, slots))
    if rng.random() < 0.75:
        sentences.append(rng.choice(_CLOSERS[lang]))

    body = " ".join(sentences)
    # German tickets always open with a greeting: the German openers continue it in lower case.
    greeting = rng.choice(_GREETINGS[lang]) if lang == "de" or rng.random() < 0.6 else ""
    if greeting:
        body = f"{greeting}\n\n{body}"
    if rng.random() < _TYPO_SHARE:
        body = _typos(body, rng)
    if rng.random() < _SIGNATURE_SHARE[channel]:
        body = f"{body}\n\n{_signature(rng, lang, slots)}"

    return {
        "subject": subject,
        "body": body,
        "product": product,
        "plan": plan,
        "region": region,
        "channel": channel,
        "urgency": urgency,
        "topic": topic,
    }


def _flip_label(row: dict[str, str], rng: Random) -> None:
    """Replace the urgency or the topic with another value of the same head (label noise)."""
    head, labels = ("urgency", URGENCIES) if rng.random() < 0.5 else ("topic", TOPICS)
    row[head] = rng.choice([label for label in labels if label != row[head]])


def generate_tickets(n: int = 3600, seed: int = 7) -> list[dict[str, str]]:
    """Generate ``n`` synthetic, labelled support tickets; the same seed gives the same tickets.

    Parameters
    ----------
    n : int, default=3600
        Number of tickets. The default gives enough rows per class (account is the rarest at ~10 %)
        for a stratified split with a useful held-out set.
    seed : int, default=7
        Seed of the :class:`random.Random` that drives every choice. The committed sample file is
        made with the default, so changing it means regenerating that file.

    Returns
    -------
    list of dict
        One dict per ticket with the keys in :data:`COLUMNS`, every value a string.

    Raises
    ------
    ValueError
        If ``n`` is negative.

    Examples
    --------
    >>> rows = generate_tickets(5, seed=1)
    >>> len(rows), tuple(rows[0]) == COLUMNS
    (5, True)
    >>> rows == generate_tickets(5, seed=1)
    True
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = Random(seed)  # reproducible sample data, not security
    rows = []
    for _ in range(n):
        row = _ticket(rng)
        if rng.random() < LABEL_NOISE:
            _flip_label(row, rng)
        rows.append(row)
    return rows


def write_sample_csv(path: Path, n: int = 3600, seed: int = 7) -> None:
    """Write :func:`generate_tickets` to ``path`` as UTF-8 CSV that is identical on every run.

    Rows end in ``\\n`` on every platform (``newline=""`` plus a fixed line terminator), fields are
    quoted only when needed, and there is no BOM, so the same arguments always give the same bytes
    and a test can compare hashes. The parent folder must exist.

    Parameters
    ----------
    path : Path
        Where to write; an existing file is replaced.
    n, seed : int
        Passed to :func:`generate_tickets`.
    """
    rows = generate_tickets(n, seed)
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
