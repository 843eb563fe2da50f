"""English and German templates and slot fillers for :mod:`ticket_triage.sample.generator`.

This module is pure data: the hand-written subjects, openers, problem sentences, urgency cues,
greetings, closers and sign-offs, and the fillers for ``{slot}`` placeholders, that the generator
in :mod:`ticket_triage.sample.generator` draws from. Besides two tiny helpers that split the compact
literals into tuples it holds no logic, and nothing here touches a random number generator.

Why it is separate: the lists are most of the generator's size (several hundred lines of prose),
and the style guide keeps modules under ~400 lines. Keeping the data here leaves
:mod:`ticket_triage.sample.generator` a readable module of logic and lets the wording be edited
without scrolling past the code. Because this file is pure data, it may exceed the usual length
limit.

Editing any entry, even its order, changes the generated tickets: regenerate the committed
``sample/tickets.csv`` with :func:`ticket_triage.sample.generator.write_sample_csv` afterwards (a
test compares the two byte for byte).

Template syntax: ``[a|b]`` picks one alternative and ``{slot}`` draws a filler (see
:class:`ticket_triage.sample.slots.Slots`). Most dicts are keyed by language (``"en"``, ``"de"``),
then by topic; :data:`SHARED_FILLERS` is keyed by slot, :data:`ERROR_CODES` and :data:`URL_PATHS`
by topic and :data:`PHONES` by region.
"""

from __future__ import annotations

__all__ = [
    "AMBIGUOUS",
    "CHANNELS",
    "CLOSERS",
    "CODE_SENTENCES",
    "COLUMNS",
    "ERROR_CODES",
    "FILLERS",
    "GENERIC",
    "GREETINGS",
    "HIGH_CUES",
    "HIGH_SUBJECT",
    "LOW_CUES",
    "LOW_SUBJECT",
    "MONTHS",
    "NORMAL_CUES",
    "OPENERS",
    "PHONES",
    "PLANS",
    "PROBLEMS",
    "PRODUCTS",
    "REGIONS",
    "SHARED_FILLERS",
    "SIGN_OFFS",
    "SUBJECTS",
    "TOPICS",
    "URGENCIES",
    "URL_PATHS",
    "URL_SENTENCES",
    "VAGUE",
    "VAGUE_SUBJECTS",
]

#: Column order of the CSV; the data contract reads the columns by name.
COLUMNS = ("subject", "body", "product", "plan", "region", "channel", "urgency", "topic")
PRODUCTS = ("billing", "web_app", "mobile_app", "api", "integrations")
PLANS = ("free", "pro", "business", "enterprise")
REGIONS = ("eu", "us", "apac")
CHANNELS = ("email", "web", "chat")
URGENCIES = ("high", "normal", "low")
TOPICS = ("billing", "bug", "feature_request", "account")


def _words(text: str) -> tuple[str, ...]:
    """Short fillers separated by ``|``, several to a line, so the filler lists stay compact."""
    return tuple(word.strip() for word in text.split("|"))


def _lines(block: str) -> tuple[str, ...]:
    """One template per non-empty line, so the long lists stay readable."""
    return tuple(line.strip() for line in block.strip().splitlines() if line.strip())


# --- Slot fillers -------------------------------------------------------------------------------

FILLERS: dict[str, dict[str, tuple[str, ...]]] = {
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
SHARED_FILLERS: dict[str, tuple[str, ...]] = {
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
ERROR_CODES = {
    "bug": _words(
        "HTTP 500 | HTTP 502 | HTTP 503 | ERR_CONNECTION_RESET | ERR_TIMED_OUT | 0x80070005 | "
        "0x8007000E | E1234 | E5021 | E3307"
    ),
    "billing": ("402", "HTTP 402", "E4021", "E1234", "card_declined"),
    "account": ("401", "403", "HTTP 401", "HTTP 403", "E2210", "0x80070005"),
    "feature_request": ("HTTP 429", "E1234"),
}
URL_PATHS = {
    "billing": ("settings/billing", "billing/invoices", "settings/billing/payment-method", "plans"),
    "bug": ("reports/weekly", "dashboard", "projects/{count}/files", "inbox", "settings/exports"),
    "account": ("settings/users", "settings/security", "login", "settings/profile"),
    "feature_request": ("settings/integrations", "reports", "settings/workflows", "dashboard"),
}


# --- Templates ----------------------------------------------------------------------------------
# English first, then German; each dict is keyed by topic. "[a|b]" picks one alternative, "{x}" a
# filler. Templates mention metadata (products, plans) loosely, as real customers do.

SUBJECTS: dict[str, dict[str, tuple[str, ...]]] = {
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
VAGUE_SUBJECTS = {
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

OPENERS: dict[str, dict[str, tuple[str, ...]]] = {
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

PROBLEMS: dict[str, dict[str, tuple[str, ...]]] = {
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
AMBIGUOUS: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {
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
VAGUE = {
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
GENERIC = {
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

CLOSERS = {
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

GREETINGS = {
    "en": ("Hi team,", "Hello,", "Dear Support,", "Hi there,", "Hi,", "Good morning,", ""),
    "de": ("Hallo zusammen,", "Sehr geehrte Damen und Herren,", "Hallo Support-Team,", "Hallo,"),
}

HIGH_CUES = {
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
HIGH_SUBJECT = {
    "en": (("URGENT: ", ""), ("[URGENT] ", ""), ("", " !!!"), ("", " ASAP"), ("", " - prod down")),
    "de": (("DRINGEND: ", ""), ("[dringend] ", ""), ("", " !!!")),
}
LOW_CUES = {
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
LOW_SUBJECT = {"en": (" (no rush)", " - not urgent", " (just curious)"), "de": (" (keine Eile)",)}
# Mild time pressure that shows up in normal tickets, to blur the edge towards high.
NORMAL_CUES = {
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
CODE_SENTENCES = {
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
URL_SENTENCES = {
    "en": ("It happens on {url}", "Here is the page: {url}", "Link: {url}", "See {url}"),
    "de": ("Betroffene Seite: {url}", "Link: {url}", "Es passiert hier: {url}"),
}
SIGN_OFFS = {
    "en": ("Best regards,", "Kind regards,", "Thanks,", "Regards,", "Cheers,"),
    "de": ("Mit freundlichen Grüßen", "Viele Grüße", "Beste Grüße", "MfG"),
}
PHONES = {
    "eu": ("+49 30 {digits}", "+49 89 {digits}", "+44 20 {digits}", "+33 1 {digits}"),
    "us": ("+1 (415) 555-{digits4}", "+1 (212) 555-{digits4}", "+1 (617) 555-{digits4}"),
    "apac": ("+61 2 {digits}", "+81 3 {digits}", "+65 {digits}"),
}
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "September", "October"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "September", "Oktober"),
}
