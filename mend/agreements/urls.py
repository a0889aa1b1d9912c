"""Agreement pages, under /cases/<reference>/agreement/ (mounted in mend/urls.py)."""

from django.urls import path

from mend.agreements import views

agreement_patterns = (
    [
        path("", views.home, name="home"),
        path("draft/", views.draft_start, name="draft_start"),
        path("calendar.ics", views.calendar, name="calendar"),
        path("check-ins/", views.check_in_add, name="check_in_add"),
        path("check-ins/<int:check_in_id>/done/", views.check_in_done, name="check_in_done"),
        path("close/", views.close, name="close"),
        path("v<int:number>/", views.version, name="version"),
        path("v<int:number>/terms/", views.draft_terms, name="draft_terms"),
        path("v<int:number>/items/", views.draft_item, name="draft_item"),
        path("v<int:number>/items/<str:uid>/remove/", views.draft_item_remove, name="draft_item_remove"),
        path("v<int:number>/open/", views.version_open, name="version_open"),
        path("v<int:number>/withdraw/", views.version_withdraw, name="version_withdraw"),
        path("v<int:number>/sign/", views.version_sign, name="version_sign"),
        path("v<int:number>/decline/", views.version_decline, name="version_decline"),
        path("v<int:number>/agreement.pdf", views.version_pdf, name="version_pdf"),
        path("items/<str:uid>/", views.item, name="item"),
        path("items/<str:uid>/evidence/", views.item_evidence, name="item_evidence"),
        path("items/<str:uid>/evidence/frames/", views.item_evidence_frames, name="item_evidence_frames"),
        path("items/<str:uid>/verify/", views.item_verify, name="item_verify"),
        path("items/<str:uid>/more/", views.item_ask_more, name="item_ask_more"),
        path("items/<str:uid>/payments/", views.item_payment, name="item_payment"),
    ],
    "agreements",
)
