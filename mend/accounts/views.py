"""Sign-in, the staff second factor, joining a case by invitation, and personal API tokens."""

import base64
import io

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from mend.accounts import forms, services
from mend.accounts.models import ApiToken
from mend.cases import services as case_services
from mend.core.errors import DomainError

SIGN_IN_FAILED = "That did not match an account. Check both parts and try again."


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


@login_not_required
@require_http_methods(["GET", "POST"])
def sign_in(request):
    # Not `request.POST or None`: an empty POST must be checked too, and told what is missing.
    form = forms.SignInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        identifier, secret = form.credentials()
        user = authenticate(request, username=identifier, password=secret)
        if user is not None:
            login(request, user)
            return redirect(_next_url(request))
        form.add_error(None, _(SIGN_IN_FAILED))
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/sign_in.html", {"form": form, "next": _next_url(request)}, status=status)


@login_not_required
@require_POST
def sign_out(request):
    logout(request)
    return redirect("accounts:sign_in")


def _qr_data_uri(uri: str) -> str:
    buffer = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@require_http_methods(["GET", "POST"])
def two_factor(request):
    user = request.user
    if not user.is_staff_member:
        return redirect("home")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    form = forms.CodeForm(request.POST if request.method == "POST" else None)
    if device is not None:
        if request.method == "POST" and form.is_valid():
            if device.verify_token(services.check_totp_code_or_blank(form.cleaned_data["code"])):
                otp_login(request, device)
                return redirect(_next_url(request))
            form.add_error("code", _(services.WRONG_CODE))
        return render(
            request,
            "accounts/two_factor_verify.html",
            {"form": form},
            status=400 if request.method == "POST" else 200,
        )
    key = request.session.get("totp_enrol_key") or default_key()
    request.session["totp_enrol_key"] = key
    if request.method == "POST" and form.is_valid():
        try:
            device = services.totp_device_enrol(actor=user, key=key, code=form.cleaned_data["code"])
        except DomainError as error:
            form.add_error("code", error.message)
        else:
            del request.session["totp_enrol_key"]
            otp_login(request, device)
            messages.success(request, _("Your authenticator app is set up."))
            return redirect(_next_url(request))
    secret = base64.b32encode(bytes.fromhex(key)).decode()
    uri = TOTPDevice(user=user, key=key, name="authenticator app").config_url
    return render(
        request,
        "accounts/two_factor_enrol.html",
        {"form": form, "qr": _qr_data_uri(uri), "secret": secret},
        status=400 if request.method == "POST" else 200,
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def join(request, token):
    try:
        invitation = case_services.invitation_open(token)
    except DomainError as error:
        return render(request, "accounts/join_unusable.html", {"message": error.message}, status=410)
    place = invitation.participant
    data = request.POST if request.method == "POST" else None
    form = forms.JoinForm(
        data,
        initial={
            "time_zone": place.case.program.time_zone,
            "preferred_language": place.case.program.default_language,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            chosen = {**form.cleaned_data}
            chosen["preferred_language"] = chosen["preferred_language"] or place.case.program.default_language
            user, phrase = case_services.invitation_accept(raw_token=token, **chosen)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            # Shown in this answer only: the phrase is never stored anywhere but as its Argon2 hash.
            return render(request, "accounts/welcome.html", {"sign_in_name": user.username, "phrase": phrase})
    context = {
        "form": form,
        "role_word": place.case.program.word_for(place.role),
        "program": place.case.program,
    }
    return render(request, "accounts/join.html", context, status=400 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
def api_tokens(request):
    if not request.user.is_staff_member:
        return render(request, "404.html", status=404)
    form = forms.ApiTokenForm(request.POST if request.method == "POST" else None)
    raw = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, raw = services.api_token_create(actor=request.user, label=form.cleaned_data["label"])
        except DomainError as error:
            form.add_error("label", error.message)
        else:
            form = forms.ApiTokenForm()
    tokens = ApiToken.objects.filter(user=request.user, revoked_at__isnull=True).order_by("-created_at")
    status = 400 if request.method == "POST" and raw is None else 200
    return render(
        request, "accounts/api_tokens.html", {"form": form, "tokens": tokens, "raw": raw}, status=status
    )


@require_POST
def api_token_revoke(request, token_id):
    api_token = get_object_or_404(ApiToken, pk=token_id, user=request.user, revoked_at__isnull=True)
    services.api_token_revoke(actor=request.user, api_token=api_token)
    messages.success(request, _("The token no longer works."))
    return redirect("accounts:api_tokens")


@require_http_methods(["GET", "POST"])
def program_words(request, program_id):
    from mend.accounts.access import access_program_admin

    program = access_program_admin(request.user, program_id)
    form = forms.RoleWordsForm(request.POST if request.method == "POST" else None, initial=program.role_words)
    if request.method == "POST" and form.is_valid():
        try:
            services.program_role_words_update(actor=request.user, program=program, words=form.cleaned_data)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Saved. Every page of this program now uses these words."))
            return redirect("programs:words", program_id=program.pk)
    return render(
        request,
        "accounts/program_words.html",
        {"program": program, "form": form},
        status=400 if request.method == "POST" else 200,
    )
