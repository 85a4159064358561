"""check-images on the shapes real repositories use that earlier corpora did not: Kargo
promotion steps, Flux postBuild substitution, operator image fields.

Each test names the upstream behaviour it follows; each shape has a positive and a negative."""

from __future__ import annotations

from gitops_guard.checks.images import check as images
from gitops_guard.core.documents import load_text
from gitops_guard.core.policy import DEFAULTS, Policy, deep_merge


def policy(**images_section: object) -> Policy:
    return Policy(deep_merge(DEFAULTS, {"images": images_section}))


def check(text: str, path: str = "manifest.yaml", pol: Policy | None = None) -> list[tuple]:
    source = load_text(path, text)
    found = images.check(source, pol or policy())
    return sorted((f.rule, f.line, f.column) for f in found)


# -- Kargo (kargo.akuity.io): docs promotion-steps/kustomize-set-image ------------------------

KARGO_TASK = """\
apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata:
  name: promote
spec:
  vars:
  - name: image
    value: {image}
  steps:
  - uses: kustomize-set-image
    as: update-image
    config:
      path: ./src/env/${{{{ ctx.stage }}}}
      images:
      - image: ${{{{ vars.image }}}}
        {tag}
"""


def kargo_task(image: str, tag: str = "tag: ${{ imageFrom(vars.image).Tag }}") -> str:
    return KARGO_TASK.format(image=image, tag=tag)


def test_kargo_step_image_is_a_name_its_tag_comes_from_the_freight():
    # akuity/kargo-advanced kargo/promotiontasks.yaml: the name is a promotion variable, the
    # tag the Freight's; neither "templated" nor "no tag"
    assert check(kargo_task("ghcr.io/akuity/guestbook")) == []
    assert check(kargo_task("ghcr.io/akuity/guestbook", tag="useDigest: true")) == []


def test_kargo_step_image_literal_tag_and_registry_are_checked():
    assert check(kargo_task("ghcr.io/akuity/guestbook", tag="tag: latest")) == [
        ("image/tag-latest", 16, 14)
    ]
    assert check(kargo_task("ghcr.io/akuity/guestbook", tag="tag: '1.2'")) == [
        ("image/tag-not-allowed", 16, 14)
    ]
    pol = policy(allowed_registries=["registry.example.com"])
    assert check(kargo_task("ghcr.io/akuity/guestbook"), pol=pol) == [
        ("image/registry-not-allowed", 15, 16)
    ]
    assert check(kargo_task("registry.example.com/guestbook"), pol=pol) == []


def test_kargo_step_image_with_an_unknown_expression_stays_unresolvable():
    text = kargo_task("x").replace("${{ vars.image }}", "${{ vars.other }}")
    assert check(text) == [("image/unresolvable", 15, 16)]


def test_kargo_stage_promotion_template_steps_and_warehouse_subscription():
    stage = """\
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: dev
spec:
  promotionTemplate:
    spec:
      steps:
      - uses: kustomize-set-image
        config:
          images:
          - image: ghcr.io/akuity/guestbook
            tag: stable
"""
    assert check(stage) == [("image/tag-not-allowed", 13, 18)]
    assert check(stage.replace("tag: stable", "tag: v1.2.3")) == []
    warehouse = """\
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: guestbook
spec:
  subscriptions:
  - image:
      repoURL: ghcr.io/akuity/guestbook
      tagSelectionStrategy: SemVer
"""
    assert check(warehouse) == []  # a repository to watch: no tag by design
    pol = policy(allowed_registries=["registry.example.com"])
    assert check(warehouse, pol=pol) == [("image/registry-not-allowed", 8, 16)]
