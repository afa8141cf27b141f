"""`branches`: the branch master — the hierarchy for drill-down and access scoping."""

from data.sources.model import Check, ColType, Column, Severity, Source

BRANCH_ID_ALIASES = ("网点编号", "网点号", "网点代码", "机构号", "机构编号", "机构代码", "内部机构号",
                     "BankNo", "OrgNo", "branch id")

BRANCHES = Source(
    name="branches",
    label_zh="机构信息",
    label_en="Branch master",
    description_zh="分行、支行、网点的层级关系、所属区域与开放窗口数，用于下钻和数据权限。",
    description_en="Branches, sub-branches and outlets with region and open windows: the drill-down "
    "hierarchy and the basis of access scoping.",
    columns=(
        Column(name="branch_id", type=ColType.ID, label_zh="机构号", label_en="Branch ID",
               aliases=BRANCH_ID_ALIASES, required=True, example="0101001"),
        Column(name="branch_name", type=ColType.STR, label_zh="机构名称", label_en="Branch name",
               aliases=("网点名称", "网点", "支行名称", "机构简称"), example="人民路网点"),
        Column(name="level", type=ColType.ENUM, label_zh="机构层级", label_en="Level",
               aliases=("层级", "机构级别", "机构类型"),
               values={"head": ("分行", "总行", "一级分行", "head", "branch"),
                       "sub_branch": ("支行", "二级支行", "一级支行", "sub_branch", "sub-branch"),
                       "outlet": ("网点", "营业网点", "营业部", "分理处", "储蓄所", "outlet")},
               derive_sql="'outlet'", example="网点"),
        Column(name="parent_id", type=ColType.ID, label_zh="上级机构号", label_en="Parent ID",
               aliases=("上级机构编号", "上级机构", "所属支行号", "parent id"), example="0101000"),
        Column(name="region", type=ColType.STR, label_zh="所属区域", label_en="Region",
               aliases=("区域", "地区", "片区", "所属地区"), example="华东区"),
        Column(name="open_windows", type=ColType.INT, label_zh="开放窗口数", label_en="Open windows",
               aliases=("窗口数", "营业窗口数", "柜台数"), min_value=0, max_value=200, example="6"),
        Column(name="opening_minutes", type=ColType.NUMBER, label_zh="营业时长", label_en="Opening minutes",
               aliases=("每日营业时长", "营业时间长度"), unit="分钟", min_value=0, max_value=1440,
               derive_sql="480", example="480"),
    ),
    key=("branch_id",),
    checks=(
        Check(code="parent_self", columns=("branch_id", "parent_id"),
              violation_sql="parent_id = branch_id", severity=Severity.ERROR,
              message_zh="上级机构不能是自身", message_en="a branch cannot be its own parent"),
    ),
)
