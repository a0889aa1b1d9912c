"""Sign-in, the staff second factor, joining a case by invitation, and personal API tokens."""

import base64
import io
import json

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from mend.accounts import credentials, forms, keys, selectors, services, site_name
from mend.accounts.access import access_own_api_token, access_program_admin
from mend.accounts.middleware import second_factor_missing
from mend.cases import services as case_services
from mend.core import edges, i18n, throttle
from mend.core.errors import DomainError
from mend.core.time_zones import likely_zones

SIGN_IN_FAILED = gettext_noop("That did not match an account. Check both parts and try again.")
KEYS_NOT_JSON = gettext_noop("Send the keys as a JSON object.")
RECOVER_INCOMPLETE = gettext_noop("Fill in your sign-in name or email and your recovery code.")
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _form_errors(form) -> dict:
    return {field: [str(e) for e in errors] for field, errors in form.errors.items()}


def _json_object(request) -> dict:
    """The request's JSON object; ValueError for anything else (deep nesting included, not a 500)."""
    try:
        body = json.loads(request.body or b"null")
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(body, dict):
        raise ValueError("not an object")
    return body


def _authenticate(request, identifier: str, auth_key: str, legacy_secret: str, old_auth_key: str = ""):
    """(user or None, what the page should send once more to convert the account: False, "legacy" for the
    old password, or "salt" for the key derived with the salt every install shared before)."""
    user = authenticate(request, username=identifier, password=auth_key)
    if user is not None:
        return user, False
    older = selectors.account_of_old_scheme(identifier)
    if older is None:
        return None, False
    kind = "legacy" if older.auth_scheme == "legacy" else "salt"
    old_secret = legacy_secret if kind == "legacy" else old_auth_key
    if not old_secret:
        return None, kind
    user = authenticate(request, username=identifier, password=old_secret)
    if user is not None:
        user = keys.sign_in_convert(user=user, auth_key=auth_key)
    return user, False


@login_not_required
@require_http_methods(["GET", "POST"])
def sign_in(request):
    # Not `request.POST or None`: an empty POST must be checked too, and told what is missing.
    form = forms.SignInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        wait = throttle.wait(request, "sign_in.address")
        if wait:
            form.add_error(None, _(throttle.TOO_MANY_TRIES))
            return throttle.too_many(wait, _sign_in_answer(request, form))
        identifier = form.credentials()[0]
        # A paused name is refused before its credentials are checked, known or not, converted or not.
        paused = throttle.locked(request, "sign_in", identifier)
        user, convert = (None, False) if paused else _authenticate(request, *form.credentials())
        # The question tells that the name is an account of the old scheme: it counts as a failed try, and
        # once the name is paused here it is answered like any other name.
        if convert and not _sign_in_failed(request, identifier):
            return JsonResponse({"convert": convert}, status=409)
        if user is not None:
            return _signed_in(request, user)
        form.add_error(None, _(SIGN_IN_FAILED))
        if paused or convert or _sign_in_failed(request, identifier):
            form.add_error(None, _(throttle.PAUSED))
    return _sign_in_answer(request, form)


def _signed_in(request, user):
    login(request, user, backend=MODEL_BACKEND)
    if _wants_json(request):
        # Signing in rotates the CSRF token; the page needs the new one to send its first keys.
        answer = {"next": _next_url(request), **_keys_answer(request, user)}
        return JsonResponse({**answer, "csrf": get_token(request)})
    return redirect(_next_url(request))


def _keys_answer(request, user) -> dict:
    """The wrapped keys come with the sign-in answer, except to staff before their second step: their page
    keeps the wrapping key and opens the keys on the unlock page after it (only the salt is said now)."""
    if second_factor_missing(user, request.session):
        bundle = keys.current_bundle(user)
        return {"keys": None, "unlock": True, "wrapped_salt": bundle.wrapped_salt if bundle else 2}
    return {"keys": keys.bundle_for_owner(keys.current_bundle(user))}


def _sign_in_answer(request, form):
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and _wants_json(request):
        return JsonResponse({"errors": _form_errors(form)}, status=status)
    return render(
        request,
        "accounts/sign_in.html",
        {"form": form, "next": _next_url(request), "install_id": keys.install_id()},
        status=status,
    )


def _sign_in_failed(request, identifier: str) -> bool:
    """Counts a failed sign-in for the address and for the name from that address; True when the name is
    now paused for this address (never for its owner elsewhere)."""
    throttle.fail(request, "sign_in.address")
    return throttle.fail_account(
        request, "sign_in", identifier, owner=lambda: selectors.active_user(identifier)
    )


def _keys_call(request, call, *, status: int = 200):
    """Runs a keys service on the request's JSON object; the answer is the person's keys as stored."""
    try:
        outcome = edges.attempt(lambda: call(_json_object(request)))
    except ValueError:
        return JsonResponse({"error": _(KEYS_NOT_JSON)}, status=400)
    if outcome.error is not None:
        return edges.json_refusal(outcome.error)
    return JsonResponse({"keys": keys.bundle_for_owner(outcome.value)}, status=status)


def _keys_create(actor, body: dict):
    fields = ("enc_public", "sign_public", "wrapped", "recovery_wrapped", "recovery_auth")
    return keys.key_bundle_create(actor=actor, **{name: body.get(name) for name in fields})


@require_http_methods(["GET", "POST", "PUT"])
def own_keys(request):
    """The signed-in person's keys: their wrapped bundle to unlock, or, the first time, the new one; PUT,
    the same keys wrapped again under this install's sign-in salt. Staff only after their second step."""
    if second_factor_missing(request.user, request.session):
        return JsonResponse({"error": _("Finish the second sign-in step first.")}, status=403)
    if request.method == "PUT":
        return _keys_call(
            request, lambda body: keys.key_bundle_rewrap(actor=request.user, wrapped=body.get("wrapped"))
        )
    if request.method == "POST":
        return _keys_call(request, lambda body: _keys_create(request.user, body), status=201)
    # The server's part of unlocking: the wrapped keys, counted per person like signing in.
    wait = throttle.take(request, "keys.account", str(request.user.pk))
    if wait:
        return throttle.too_many(wait)
    return JsonResponse({"keys": keys.bundle_for_owner(keys.current_bundle(request.user))})


def _recover_request(request) -> tuple[dict, str, str]:
    """The body, the sign-in name and the recovery code's derived key; ValueError when any is unusable."""
    body = _json_object(request)
    identifier = str(body.get("identifier", "")).strip().lower()
    outcome = edges.attempt(lambda: keys.check_auth_key(body.get("recovery_auth")))
    if outcome.error is not None:
        raise ValueError("not a recovery code")
    return body, identifier, outcome.value


def _recovery_refused(request, identifier: str, paused: bool):
    if not paused:
        throttle.fail(request, "recover.address")
        paused = throttle.fail_account(
            request, "recover", identifier, owner=lambda: selectors.active_user(identifier)
        )
    message = _(keys.RECOVERY_FAILED) + (" " + _(throttle.PAUSED) if paused else "")
    return JsonResponse({"error": message}, status=400)


def _recover_finish(request, user, recovery_auth: str, body: dict):
    outcome = edges.attempt(
        lambda: keys.account_recover(
            user=user, recovery_auth=recovery_auth, auth_key=body.get("auth_key"), wrapped=body.get("wrapped")
        )
    )
    if outcome.error is not None:
        return edges.json_refusal(outcome.error, status=400)
    login(request, outcome.value, backend=MODEL_BACKEND)
    return JsonResponse({"next": reverse("home")})


@login_not_required
@require_http_methods(["GET", "POST"])
def recover(request):
    """A new passphrase with the recovery code: the browser unwraps the keys with the code and wraps them
    again under the new passphrase; the server checks the code's derived key, never the code."""
    if request.method == "GET":
        return render(request, "accounts/recover.html", {"install_id": keys.install_id()})
    wait = throttle.wait(request, "recover.address")
    if wait:
        return throttle.too_many(wait)
    try:
        body, identifier, recovery_auth = _recover_request(request)
    except ValueError:
        return JsonResponse({"error": _(RECOVER_INCOMPLETE)}, status=400)
    paused = throttle.locked(request, "recover", identifier)
    user = None if paused else selectors.active_user(identifier)
    bundle = keys.current_bundle(user) if user else None
    if bundle is None or not keys.recovery_matches(bundle, recovery_auth):
        return _recovery_refused(request, identifier, paused)
    if body.get("step") != "finish":
        fields = ("recovery_wrapped", "enc_public", "sign_public")
        return JsonResponse({name: getattr(bundle, name) for name in fields})
    return _recover_finish(request, user, recovery_auth, body)


@require_http_methods(["GET"])
def unlock(request):
    """After the second step: the page opens the staff member's keys with the wrapping key their sign-in
    page kept on this device (or makes their first keys), then goes on."""
    return render(request, "accounts/unlock.html", {"next": _next_url(request)})


def _after_second_factor(request) -> str:
    return reverse("accounts:unlock") + "?" + urlencode({"next": _next_url(request)})


@login_not_required
@require_POST
def sign_out(request):
    logout(request)
    return redirect("accounts:sign_in")


def _qr_data_uri(uri: str) -> str:
    buffer = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _two_factor_verify(request, device, form):
    if request.method == "POST" and form.is_valid():
        if device.verify_token(services.check_totp_code_or_blank(form.cleaned_data["code"])):
            otp_login(request, device)
            return redirect(_after_second_factor(request))
        form.add_error("code", _(services.WRONG_CODE))
    return render(
        request, "accounts/two_factor_verify.html", {"form": form}, status=edges.form_status(request)
    )


def _two_factor_enrol(request, form):
    key = request.session.get("totp_enrol_key") or default_key()
    request.session["totp_enrol_key"] = key
    enrol = lambda data: services.totp_device_enrol(actor=request.user, key=key, code=data["code"])  # noqa: E731
    outcome = edges.submit(request, form, enrol, field="code")
    if outcome.ok:
        del request.session["totp_enrol_key"]
        otp_login(request, outcome.value)
        messages.success(request, _("Your authenticator app is set up."))
        return redirect(_after_second_factor(request))
    secret = base64.b32encode(bytes.fromhex(key)).decode()
    uri = TOTPDevice(user=request.user, key=key, name="authenticator app").config_url
    context = {"form": form, "qr": _qr_data_uri(uri), "secret": secret}
    return render(request, "accounts/two_factor_enrol.html", context, status=edges.form_status(request))


@require_http_methods(["GET", "POST"])
def two_factor(request):
    if not request.user.is_staff_member:
        return redirect("home")
    device = selectors.confirmed_totp_device(request.user)
    form = forms.CodeForm(request.POST if request.method == "POST" else None)
    if device is not None:
        return _two_factor_verify(request, device, form)
    return _two_factor_enrol(request, form)


JOIN_NAME_SALT = "mend.join.sign-in-name"
JOIN_EXPIRED = gettext_noop("This page has expired. Reload it and join again.")


def _join_open(request, token):
    """(the invitation, None), or (None, the answer for a link that cannot be used now)."""
    wait = throttle.wait(request, "join.address")
    if wait:
        return None, throttle.too_many(wait, _join_unusable(request, _(throttle.TOO_MANY_TRIES), status=429))
    outcome = edges.attempt(lambda: case_services.invitation_open(token))
    if outcome.error is not None:
        # Links that do not work, counted per address: a guesser would open a great many.
        throttle.fail(request, "join.address")
        return None, _join_unusable(request, outcome.error.message, status=410)
    if request.method == "POST":
        wait = throttle.wait(request, "join.invitation", str(outcome.value.pk))
        if wait:
            return None, throttle.too_many(
                wait, _join_unusable(request, _(throttle.TOO_MANY_TRIES), status=429)
            )
    return outcome.value, None


def _join_accept(token, program, form, key_form, page_language):
    """The service call for a valid join; the sign-in name is the one the page was given, signed, so that
    the browser could derive the sign-in key from it (a stale page is refused like any other mistake)."""
    try:
        sign_in_name = signing.loads(
            key_form.cleaned_data["sign_in_name"], salt=JOIN_NAME_SALT, max_age=6 * 3600
        )
    except signing.BadSignature:
        raise DomainError(_(JOIN_EXPIRED)) from None
    chosen = {**form.cleaned_data}
    chosen["preferred_language"] = chosen["preferred_language"] or program.default_language
    return case_services.invitation_accept(
        raw_token=token,
        sign_in_name=sign_in_name,
        auth_key=key_form.cleaned_data["auth_key"],
        keys=key_form.cleaned_data["keys"],
        page_language=page_language,
        **chosen,
    )


def _join_refused(request, invitation, form, key_form):
    # Failed joins, counted per link: a person fixes a few mistakes, a script makes hundreds.
    throttle.fail(request, "join.invitation", str(invitation.pk))
    if not key_form.is_valid():
        form.add_error(None, next(iter(key_form.errors.values()))[0])
    if _wants_json(request):
        return JsonResponse({"errors": _form_errors(form)}, status=400)
    return render(request, "accounts/join.html", _join_context(form, invitation.participant), status=400)


@login_not_required
@require_http_methods(["GET", "POST"])
def join(request, token):
    invitation, unusable = _join_open(request, token)
    if unusable is not None:
        return unusable
    program = invitation.participant.case.program
    data = request.POST if request.method == "POST" else None
    # The language this page is shown in (the browser's, or the switcher's) is the first guess.
    initial = {"time_zone": program.time_zone, "preferred_language": request.LANGUAGE_CODE}
    likely = likely_zones(time_zone=program.time_zone, jurisdictions=program.jurisdictions)
    form, key_form = forms.JoinForm(data, initial=initial, likely=likely), forms.JoinKeysForm(data)
    if request.method == "GET":
        return render(request, "accounts/join.html", _join_context(form, invitation.participant))
    if key_form.is_valid():
        accept = lambda _data: _join_accept(token, program, form, key_form, request.LANGUAGE_CODE)  # noqa: E731
        outcome = edges.submit(request, form, accept)
        if outcome.ok:
            login(request, outcome.value, backend=MODEL_BACKEND)
            # The phrase and recovery code were made in the browser, which shows them; they never came here.
            return JsonResponse({"sign_in_name": outcome.value.username, "next": reverse("home")})
    return _join_refused(request, invitation, form, key_form)


def _join_unusable(request, message: str, *, status: int):
    if request.method == "POST" and _wants_json(request):
        return JsonResponse({"error": message}, status=status)
    return render(request, "accounts/join_unusable.html", {"message": message}, status=status)


def _join_context(form, place) -> dict:
    program = place.case.program
    name = credentials.new_sign_in_name()
    return {
        "form": form,
        "role_word": program.word_for(place.role),
        "program": program,
        "sign_in_name": name,
        "signed_sign_in_name": signing.dumps(name, salt=JOIN_NAME_SALT),
        "install_id": keys.install_id(),
    }


@require_http_methods(["GET", "POST"])
def api_tokens(request):
    if not request.user.is_staff_member:
        return render(request, "404.html", status=404)
    form = forms.ApiTokenForm(request.POST if request.method == "POST" else None)
    create = lambda data: services.api_token_create(actor=request.user, label=data["label"])  # noqa: E731
    outcome = edges.submit(request, form, create, field="label")
    raw = outcome.value[1] if outcome.ok else None
    if outcome.ok:
        form = forms.ApiTokenForm()
    context = {"form": form, "tokens": selectors.live_api_tokens(request.user), "raw": raw}
    status = 400 if request.method == "POST" and raw is None else 200
    return render(request, "accounts/api_tokens.html", context, status=status)


@require_POST
def api_token_revoke(request, token_id):
    api_token = access_own_api_token(request.user, token_id)
    services.api_token_revoke(actor=request.user, api_token=api_token)
    messages.success(request, _("The token no longer works."))
    return redirect("accounts:api_tokens")


@require_http_methods(["GET", "POST"])
def program_words(request, program_id):
    program = access_program_admin(request.user, program_id)
    if request.method == "POST" and "site_name" in request.POST:
        return _program_site_name(request, program)
    language = i18n.supported(request.GET.get("language")) or program.default_language
    initial = {"language": language, **program.words_in(language)}
    form = forms.RoleWordsForm(request.POST if request.method == "POST" else None, initial=initial)
    chosen = lambda: form.cleaned_data["language"] or program.default_language  # noqa: E731
    update = lambda data: services.program_role_words_update(  # noqa: E731
        actor=request.user, program=program, language=chosen(), words=_without(data, "language")
    )
    if edges.submit(request, form, update).ok:
        messages.success(
            request, _("Saved. Every page of this program in that language now uses these words.")
        )
        return redirect(f"{reverse('programs:words', args=[program.pk])}?language={chosen()}")
    site_form = forms.SiteNameForm(initial={"site_name": program.site_name})
    return _program_words_page(request, program, language, form, site_form)


def _program_site_name(request, program):
    """The page's second form: the name shown instead of "Mend" (mend.accounts.site_name)."""
    site_form = forms.SiteNameForm(request.POST)
    update = lambda data: site_name.program_site_name_update(  # noqa: E731
        actor=request.user, program=program, site_name=data["site_name"]
    )
    if edges.submit(request, site_form, update).ok:
        messages.success(request, _("Saved. The browser tab, each page and emails now use this name."))
        return redirect("programs:words", program.pk)
    language = program.default_language
    form = forms.RoleWordsForm(initial={"language": language, **program.words_in(language)})
    return _program_words_page(request, program, language, form, site_form)


def _program_words_page(request, program, language, form, site_form):
    """The program words page, with both its forms (the role words and the site name)."""
    context = {"program": program, "form": form, "site_form": site_form, "language": language}
    context["words_note"] = forms.ROLE_WORD_NOTES.get(language)
    return render(request, "accounts/program_words.html", context, status=edges.form_status(request))


def _without(data: dict, key: str) -> dict:
    return {k: v for k, v in data.items() if k != key}
