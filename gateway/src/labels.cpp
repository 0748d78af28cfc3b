#include "homesafe/gateway/labels.hpp"

namespace homesafe::gateway {

std::string_view zh_label(rules::AlertKind kind) {
  using K = rules::AlertKind;
  switch (kind) {
    case K::smoke:
      return "烟雾报警";
    case K::gas:
      return "燃气泄漏";
    case K::co:
      return "一氧化碳报警";
    case K::water_leak:
      return "漏水";
    case K::call:
      return "紧急呼叫";
    case K::no_water:
      return "长时间未用水";
    case K::inactivity:
      return "长时间无活动";
    case K::routine_deviation:
      return "作息异常";
    case K::water_running:
      return "长时间流水";
    case K::power_running:
      return "电器长时间大功率";
    case K::night_door:
      return "夜间开门";
    case K::temperature:
      return "室温异常";
    case K::device_offline:
      return "设备离线";
    case K::device_fault:
      return "设备故障";
    case K::low_battery:
      return "电池电量低";
    case K::tamper:
      return "设备被拆动";
    case K::hub_offline:
      return "网关离线";
    case K::storage_full:
      return "网关存储空间不足";
  }
  return "未知";
}

std::string_view zh_label(rules::Severity severity) {
  switch (severity) {
    case rules::Severity::emergency:
      return "紧急";
    case rules::Severity::warning:
      return "警告";
    case rules::Severity::info:
      return "提示";
  }
  return "未知";
}

std::string_view zh_label(AlertState state) {
  switch (state) {
    case AlertState::open:
      return "未处理";
    case AlertState::acknowledged:
      return "已知晓";
    case AlertState::resolved:
      return "已解决";
  }
  return "未知";
}

}  // namespace homesafe::gateway
