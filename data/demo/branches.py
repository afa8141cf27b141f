"""The bank's organisation tree: 1 分行 → 3 regions → 1–2 支行 each → `spec.branches` 网点.

Also draws the hidden per-outlet traits the other generators need (base ticket volume, staffing
efficiency that makes a few outlets chronically slow), and the staff lists (approvers, loan officers).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .spec import DemoSpec

HEAD_ID = "BR000"
HEAD_NAME = "某某银行分行营业管理部"
REGIONS = ["华东区", "华南区", "华北区"]
SUB_NAMES = ["城东支行", "城西支行", "高新支行", "滨江支行", "开发区支行", "城南支行", "城北支行",
             "新城支行", "经开支行", "中山支行", "临港支行", "江北支行"]
ROADS = ["人民", "解放", "中山", "建设", "和平", "胜利", "新华", "长江", "黄河", "文化", "青年", "光明",
         "东风", "朝阳", "幸福", "友谊", "工业", "学府", "南京", "北京", "天河", "滨河", "花园", "锦绣",
         "延安", "淮海", "迎宾", "府前", "体育", "环城", "凤凰", "金桥", "望江", "翠湖", "丰收", "振兴",
         "前进", "红旗", "育才", "春晖"]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈")
GIVEN = ["磊", "伟", "芳", "敏", "静", "丽", "强", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
         "霞", "平", "刚", "桂英", "建华", "晓东", "海燕", "志强", "文博", "雪梅", "子涵", "浩然", "思远",
         "雅琴", "国庆", "春生", "玉兰", "立新", "宏伟", "晨曦", "佳怡", "俊杰", "婷婷"]
STORY_APPROVER = "王磊"


def _outlet_names(rng: np.random.Generator, n: int) -> list[str]:
    pool = [f"{r}路网点" for r in ROADS] + [f"{r}{d}路网点" for d in "东西南北中" for r in ROADS]
    head, rest = pool[: len(ROADS)], pool[len(ROADS):]
    order = list(rng.permutation(len(head))) + [len(head) + i for i in rng.permutation(len(rest))]
    if n > len(pool):
        raise ValueError(f"at most {len(pool)} outlets supported")
    return [pool[i] for i in order[:n]]


def person_names(rng: np.random.Generator, n: int, first: str | None = None) -> list[str]:
    """`n` distinct plausible Chinese names (surname + given name); `first` forced to position 0."""
    combos = np.array([s + g for s in SURNAMES for g in GIVEN])
    picked = list(combos[rng.permutation(len(combos))[: n + 1]])
    if first is not None:
        picked = [first] + [p for p in picked if p != first]
    return picked[:n]


def build_branches(spec: DemoSpec) -> pd.DataFrame:
    """Organisation table (all levels) with hidden trait columns prefixed `_`.

    Columns: 机构号, 机构名称, 机构层级, 上级机构号, 所属区域, 开放窗口数, 营业时长(分钟),
    _base (served tickets per normal working day), _eff (staffing efficiency; <1 = chronically slow).
    """
    rng = spec.rng("branches")
    n = spec.branches
    n_sub_per_region = [1 + int(rng.random() < 0.6) for _ in REGIONS]
    while sum(n_sub_per_region) > n:  # tiny specs: every 支行 needs at least one outlet
        n_sub_per_region[int(np.argmax(n_sub_per_region))] -= 1
    subs = []
    k = 0
    for r, (reg, cnt) in enumerate(zip(REGIONS, n_sub_per_region, strict=True)):
        for s in range(cnt):
            subs.append((f"{r + 1:02d}{s + 1:02d}000", SUB_NAMES[k], reg))
            k += 1
    subs = [s for s in subs]  # regions with 0 支行 are simply absent (only when branches < 3)
    # outlets per 支行: at least one each, the rest at random (multinomial)
    extra = rng.multinomial(n - len(subs), np.full(len(subs), 1 / len(subs))) if n > len(subs) else np.zeros(len(subs), int)
    counts = 1 + extra
    names = _outlet_names(rng, n)
    rows = [dict(机构号=HEAD_ID, 机构名称=HEAD_NAME, 机构层级="分行", 上级机构号="", 所属区域="")]
    o = 0
    for (sid, sname, reg), cnt in zip(subs, counts, strict=True):
        rows.append(dict(机构号=sid, 机构名称=sname, 机构层级="支行", 上级机构号=HEAD_ID, 所属区域=reg))
        for j in range(cnt):
            nm = f"{sname}营业部" if j == 0 else names[o]
            rows.append(dict(机构号=f"{sid[:4]}{j + 1:03d}", 机构名称=nm, 机构层级="网点", 上级机构号=sid, 所属区域=reg))
            o += 1
    df = pd.DataFrame(rows)
    is_out = (df["机构层级"] == "网点").to_numpy()
    m = int(is_out.sum())
    windows = rng.integers(3, 11, size=m)
    minutes = np.where(rng.random(m) < 0.2, 420, 480)
    df["开放窗口数"] = pd.array([pd.NA] * len(df), dtype="Int64")
    df["营业时长(分钟)"] = pd.array([pd.NA] * len(df), dtype="Int64")
    df.loc[is_out, "开放窗口数"] = windows
    df.loc[is_out, "营业时长(分钟)"] = minutes
    base = (60 + 4 * (windows - 3)) * rng.lognormal(0, 0.08, m)
    eff = rng.lognormal(0, 0.06, m)
    bad = rng.permutation(m)[: max(1, round(0.12 * m))]  # a few chronically understaffed outlets
    eff[bad] *= 0.74
    eff = np.clip(eff, 0.74, None)
    df["_base"] = np.nan
    df["_eff"] = np.nan
    df.loc[is_out, "_base"] = base
    df.loc[is_out, "_eff"] = eff
    return df


def outlets(branches: pd.DataFrame) -> pd.DataFrame:
    return branches[branches["机构层级"] == "网点"].reset_index(drop=True)


def staff(spec: DemoSpec, branches: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Approvers (~12, two per 支行 plus head-office ones; `王磊` is the first 支行's) and loan officers (2 per outlet)."""
    rng = spec.rng("staff")
    subs = branches[branches["机构层级"] == "支行"]["机构号"].tolist()
    n_appr = max(12, 2 * len(subs) + 2)
    names = person_names(rng, n_appr, first=STORY_APPROVER)
    home = [subs[i // 2] if i < 2 * len(subs) else "BR000" for i in range(n_appr)]
    approvers = pd.DataFrame({"name": names, "home": home})
    outs = outlets(branches)
    n_off = 2 * len(outs)
    off_names = person_names(spec.rng("officers"), n_off + n_appr)
    off_names = [x for x in off_names if x not in set(names)][:n_off]
    officers = pd.DataFrame({"name": off_names, "outlet": np.repeat(outs["机构号"].to_numpy(), 2)})
    return {"approvers": approvers, "officers": officers}
