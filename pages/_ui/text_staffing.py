"""Interface text of the counter page's staffing section (pages/_ui/staffing.py), merged into pages/_ui/i18n.T."""

TEXT = {
    "sf.title": ("窗口配置建议", "Staffing advice"),
    "sf.help": ("按星期 × 时段测算达到服务水平所需的窗口数（Erlang C；有过号数据的网点用含客户放弃的 Erlang A），"
                "与实开窗口（该时段有办理的不同窗口数，按营业日平均）比较。公式与来源见 docs/staffing.md。",
                "Windows needed per weekday × hour to reach the service level (Erlang C; Erlang A with the measured "
                "abandonment where a branch's tickets record 过号), against the windows actually open (distinct windows "
                "serving in that hour, averaged over the open days). Formulas and sources: docs/staffing.md."),
    "sf.share": ("服务水平（%客户）", "Service level (% of customers)"),
    "sf.minutes": ("目标等候（分钟内叫号）", "Called within (minutes)"),
    "sf.branch": ("网点", "Branch"),
    "sf.caption": ("读取 {start} 至 {end}（所选期间的最后 {weeks} 周）；目标：{share}% 客户 {minutes} 分钟内叫号，"
                   "窗口占用率不超过 {occ}%。",
                   "Reads {start} to {end} (the last {weeks} weeks of the period); target: {share}% of customers called "
                   "within {minutes} minutes, window occupancy at most {occ}%."),
    "sf.model_a": ("{name}：Erlang A，按过号测得客户平均耐心 {patience:.0f} 分钟。",
                   "{name}: Erlang A, mean patience measured from 过号 tickets {patience:.0f} minutes."),
    "sf.model_c": ("{name}：Erlang C（过号票号不足 {n} 张，不估计客户放弃）。",
                   "{name}: Erlang C (fewer than {n} 过号 tickets: abandonment not estimated)."),
    "sf.empty": ("所选范围内没有可测算的排队数据。", "No queue data to size in this selection."),
    "sf.heat": ("富余 / 缺口（实开 − 所需窗口）", "Surplus / shortage (open − needed windows)"),
    "sf.heat_alt": ("按星期和时段的窗口富余与缺口", "Window surplus and shortage by weekday and hour"),
    "sf.colorbar": ("窗口差额", "Windows ±"),
    "sf.hover": ("需 {needed} 个窗口，实开 {open} 个", "{needed} needed, {open} open"),
    "sf.suggestions": ("调整建议（按缺口排序）", "Suggestions (largest shortage first)"),
    "sf.suggestions.none": ("各时段实开窗口与所需一致，暂无调整建议。", "Every hour opens the windows it needs: no suggestions."),
    "sf.suggestions.more": ("另有 {n} 条建议见下表。", "{n} more in the table below."),
    "sf.kind.shortage": ("缺口", "Short"),
    "sf.kind.surplus": ("富余", "Surplus"),
    "sf.col.rank": ("排名", "Rank"),
    "sf.col.kind": ("类型", "Kind"),
    "sf.col.branch": ("网点", "Branch"),
    "sf.col.text": ("建议", "Suggestion"),
    "sf.col.window_hours": ("窗口·小时", "Window-hours"),
    "sf.col.arrivals": ("涉及客户（每天）", "Customers (per day)"),
    "sf.table_alt": ("窗口配置建议列表", "List of staffing suggestions"),
    "sf.whatif": ("测算工具（What-if）", "What-if planner"),
    "sf.whatif.help": ("输入到达量、办理时长和窗口数，查看等待概率、服务水平、平均等候、占用率与放弃率；"
                       "耐心填 0 时用 Erlang C（客户不离开）。默认值取所选网点最繁忙的时段。",
                       "Enter arrivals, handling time and windows to see the probability of waiting, service level, "
                       "average wait, occupancy and abandonment; patience 0 means Erlang C (nobody leaves). "
                       "Defaults: the selected branch's busiest hour."),
    "sf.w.arrivals": ("每小时到达（人）", "Arrivals per hour"),
    "sf.w.aht": ("平均办理时长（分钟）", "Handling time (minutes)"),
    "sf.w.windows": ("开放窗口数", "Windows open"),
    "sf.w.patience": ("客户平均耐心（分钟，0=不离开）", "Mean patience (minutes, 0 = nobody leaves)"),
    "sf.w.shrinkage": ("排班损耗（%）", "Shrinkage (%)"),
    "sf.m.p_wait": ("等待概率", "Probability of waiting"),
    "sf.m.sl": ("服务水平", "Service level"),
    "sf.m.wait": ("平均等候", "Average wait"),
    "sf.m.occupancy": ("窗口占用率", "Occupancy"),
    "sf.m.abandon": ("放弃率", "Abandonment"),
    "sf.m.needed": ("所需窗口 / 排班", "Windows needed / rostered"),
    "sf.m.needed_value": ("{n} 个 / {r} 人", "{n} / {r}"),
    "sf.m.unstable": ("排队无限增长", "Queue grows without end"),
    "sf.m.minutes": ("{v:.1f} 分钟", "{v:.1f} min"),
}
